/** The PDB / mmCIF reader lives in src/shared (the engine reads structures for the label cards too); the renderer imports it from here. */
export * from '@shared/structure-reader'
