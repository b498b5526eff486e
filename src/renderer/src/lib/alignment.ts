/** Global alignment is in src/shared (the engine aligns family members too); the renderer imports it from here. */
export * from '@shared/alignment'
