/**
 * Everything a store holds that indexing decides, read straight from SQLite (not through LatentStore): proteins,
 * runs (without timestamps), latent blobs (as SHA-256), run statistics (without the time they were computed),
 * per-feature statistics, details (histogram, quantiles, examples blob) and concept counts. Two stores with
 * equal dumps hold the same index.
 */
import Database from 'better-sqlite3'
import { createHash } from 'node:crypto'

export interface StoreDump {
  proteins: unknown[]
  runs: unknown[]
  latents: unknown[]
  runStats: unknown[]
  featureStats: unknown[]
  featureDetails: unknown[]
  featureConcepts: unknown[]
}

export function dumpStore(path: string): StoreDump {
  const db = new Database(path, { readonly: true, fileMustExist: true })
  try {
    const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
    return {
      proteins: db.prepare('SELECT * FROM proteins ORDER BY id').all(),
      runs: db
        .prepare(
          'SELECT id, model_name, model_hash, sae_name, sae_hash, layer, d_sae, settings, status FROM runs ORDER BY id'
        )
        .all(),
      latents: (
        db.prepare('SELECT run_id, protein_id, rows, nnz, data FROM latents ORDER BY run_id, protein_id').all() as {
          data: Buffer
        }[]
      ).map(r => ({
        ...r,
        data: sha(r.data)
      })),
      runStats: db
        .prepare(
          'SELECT run_id, proteins, residues, annotated_proteins, annotated_residues, settings FROM run_stats ORDER BY run_id'
        )
        .all(),
      featureStats: db.prepare('SELECT * FROM feature_stats ORDER BY run_id, feature').all(),
      featureDetails: (
        db.prepare('SELECT * FROM feature_details ORDER BY run_id, feature').all() as { examples: Buffer }[]
      ).map(r => ({
        ...r,
        examples: sha(r.examples)
      })),
      featureConcepts: db.prepare('SELECT * FROM feature_concepts ORDER BY run_id, feature, type').all()
    }
  } finally {
    db.close()
  }
}
