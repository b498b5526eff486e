/** BLOSUM62 is in src/shared (with the alignment); the renderer imports it from here. */
export * from '@shared/blosum62'
