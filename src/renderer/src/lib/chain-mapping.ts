/** Sequence-to-chain mapping lives in src/shared (the engine maps firing residues onto chains for the label cards); the renderer imports it from here. */
export * from '@shared/chain-mapping'
