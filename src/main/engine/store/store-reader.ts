/**
 * What the store's write path (latent-store.ts) and the views' read queries (feature-queries.ts,
 * protein-queries.ts) share: the better-sqlite3 handle with its cache of prepared statements, the run and
 * protein lookups every query starts from, and the errors of a query that asks for something not stored.
 */
import type Database from 'better-sqlite3'
import type { RunInfo } from '../../../shared/store-types'
import { decodeFeatureMajor, type FeatureMajorLatents } from './latent-codec'

/** What a query asked for is not in the store (no such run, protein, feature, or not computed yet). */
export class NotInStoreError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'NotInStoreError'
  }
}

/** A feature id that the run's SAE does not have (the transports answer 404 / 400, not a failure). */
export class FeatureOutOfRangeError extends NotInStoreError {
  constructor(message: string) {
    super(message)
    this.name = 'FeatureOutOfRangeError'
  }
}

/** A row of the `runs` table as SQLite returns it. */
export interface RunRow {
  id: number
  model_name: string
  model_hash: string
  sae_name: string
  sae_hash: string
  layer: number
  d_sae: number
  settings: string
  status: string
  created_at: string
  updated_at: string
}

/** What identifies a run and what it was made with, from its row. */
export type RunIdentity = Pick<RunInfo, 'id' | 'modelName' | 'modelHash' | 'saeName' | 'saeHash' | 'layer' | 'dSae'>

export function runIdentityOf(r: RunRow): RunIdentity {
  return {
    id: r.id,
    modelName: r.model_name,
    modelHash: r.model_hash,
    saeName: r.sae_name,
    saeHash: r.sae_hash,
    layer: r.layer,
    dSae: r.d_sae
  }
}

/** A row of the `proteins` table as SQLite returns it. */
export interface ProteinRow {
  id: number
  accession: string
  name: string
  organism: string
  description: string
  sequence: string
  length: number
  annotations: string
  source_file: string
  source_line: number
}

/** A LIKE pattern (ESCAPE '\\') that finds `text` anywhere. */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, c => `\\${c}`)}%`
}

export class StoreReader {
  private readonly statements = new Map<string, Database.Statement>()

  constructor(
    readonly path: string,
    readonly db: Database.Database
  ) {}

  /** The prepared statement of `sql` (prepared once per connection). */
  stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql)
    if (!s) {
      s = this.db.prepare(sql)
      this.statements.set(sql, s)
    }
    return s
  }

  /** The run queries use when none is given: the latest complete run, else the latest run. */
  defaultRunId(): number {
    const r = (this.stmt(
      "SELECT id FROM runs WHERE status = 'complete' ORDER BY updated_at DESC, id DESC LIMIT 1"
    ).get() ?? this.stmt('SELECT id FROM runs ORDER BY id DESC LIMIT 1').get()) as { id: number } | undefined
    if (!r)
      throw new NotInStoreError(
        `${this.path}: the store has no indexing runs yet; index some proteins first (plm-sae index ...)`
      )
    return r.id
  }

  /** The run of `runId` (default: `defaultRunId()`) as stored. */
  resolveRun(runId: number | undefined): RunRow {
    const id = runId ?? this.defaultRunId()
    const r = this.stmt('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined
    if (!r) throw new NotInStoreError(`${this.path}: no run ${id} in this store`)
    return r
  }

  /** A protein's row by id or accession. */
  proteinRow(ref: number | string): ProteinRow | undefined {
    if (typeof ref === 'number')
      return this.stmt('SELECT * FROM proteins WHERE id = ?').get(ref) as ProteinRow | undefined
    return this.stmt('SELECT * FROM proteins WHERE accession = ?').get(ref) as ProteinRow | undefined
  }

  /** One protein's stored latents (feature-major), or undefined when not indexed in this run. */
  latents(runId: number, proteinId: number): FeatureMajorLatents | undefined {
    const row = this.stmt('SELECT data FROM latents WHERE run_id = ? AND protein_id = ?').get(runId, proteinId) as
      { data: Buffer } | undefined
    return row ? decodeFeatureMajor(row.data) : undefined
  }
}
