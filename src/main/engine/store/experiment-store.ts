/**
 * Steering experiments and steering runs in the project's store (tables of migration 4):
 * - `experiments`: one row per experiment (design, provenance, status, the latest summary as JSON);
 * - `experiment_conditions`: the expanded conditions (their definition as JSON), fixed when the experiment is
 *   created, so a resumed experiment uses the same random controls;
 * - `experiment_sequences`: every generated sequence with its outcomes (JSON) and its mean activation per
 *   feature (sparse: uint32 count, uint32 feature ids, float32 means). Rows are written a chunk at a time in
 *   one transaction, so a killed run keeps every finished chunk and loses no partial one;
 * - `steering_runs`: today's steering runs (`SteeringRunRecord` JSON), formerly files beside the store.
 */
import type Database from 'better-sqlite3'
import type {
  ExperimentCondition,
  ExperimentDesign,
  ExperimentInfo,
  ExperimentProvenance,
  ExperimentSequence,
  ExperimentStatus,
  ExperimentSummary,
  SequenceOutcomes
} from '../../../shared/experiment-types'
import type { SteeringRunRecord, SteeringRunSummary } from '../../../shared/steering-types'

export interface StoredSequence extends ExperimentSequence {
  featureMeans: Map<number, number>
}

export function encodeFeatureMeans(m: Map<number, number>): Buffer {
  const entries = [...m].sort((a, b) => a[0] - b[0])
  const buf = Buffer.alloc(4 + entries.length * 8)
  buf.writeUInt32LE(entries.length, 0)
  entries.forEach(([f, v], i) => {
    buf.writeUInt32LE(f, 4 + i * 4)
    buf.writeFloatLE(v, 4 + entries.length * 4 + i * 4)
  })
  return buf
}

export function decodeFeatureMeans(buf: Buffer): Map<number, number> {
  const n = buf.readUInt32LE(0)
  const m = new Map<number, number>()
  for (let i = 0; i < n; i++) m.set(buf.readUInt32LE(4 + i * 4), buf.readFloatLE(4 + n * 4 + i * 4))
  return m
}

interface ExperimentRow {
  id: string
  name: string
  design: string
  provenance: string
  status: ExperimentStatus
  summary: string | null
  created_at: string
  updated_at: string
}

export class ExperimentStore {
  constructor(private readonly db: Database.Database) {
    const ok = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'experiments'").get()
    if (!ok)
      throw new Error(
        'this store has no experiment tables (it was opened read-only before migration 4): open it once for writing'
      )
  }

  exists(id: string): boolean {
    return this.db.prepare('SELECT 1 FROM experiments WHERE id = ?').get(id) !== undefined
  }

  /** Creates the experiment with its conditions, or returns false when it exists already (resume). */
  create(
    id: string,
    design: ExperimentDesign,
    provenance: ExperimentProvenance,
    conditions: ExperimentCondition[]
  ): boolean {
    if (this.db.prepare('SELECT 1 FROM experiments WHERE id = ?').get(id)) return false
    const now = new Date().toISOString()
    this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT INTO experiments (id, name, design, provenance, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)'
        )
        .run(id, design.name, JSON.stringify(design), JSON.stringify(provenance), 'running', now, now)
      const ins = this.db.prepare(
        'INSERT INTO experiment_conditions (experiment_id, idx, key, definition) VALUES (?, ?, ?, ?)'
      )
      for (const c of conditions) ins.run(id, c.index, c.key, JSON.stringify(c))
    })()
    return true
  }

  private row(id: string): ExperimentRow {
    const r = this.db.prepare('SELECT * FROM experiments WHERE id = ?').get(id) as ExperimentRow | undefined
    if (!r) throw new Error(`there is no experiment "${id}" in this store`)
    return r
  }

  design(id: string): ExperimentDesign {
    return JSON.parse(this.row(id).design) as ExperimentDesign
  }

  provenance(id: string): ExperimentProvenance {
    return JSON.parse(this.row(id).provenance) as ExperimentProvenance
  }

  conditions(id: string): ExperimentCondition[] {
    return (
      this.db.prepare('SELECT definition FROM experiment_conditions WHERE experiment_id = ? ORDER BY idx').all(id) as {
        definition: string
      }[]
    ).map(r => JSON.parse(r.definition) as ExperimentCondition)
  }

  /** Keys "condition:index" of the sequences already stored. */
  finished(id: string): Set<string> {
    const rows = this.db
      .prepare('SELECT condition_idx AS c, seq_index AS i FROM experiment_sequences WHERE experiment_id = ?')
      .all(id) as { c: number; i: number }[]
    return new Set(rows.map(r => `${r.c}:${r.i}`))
  }

  /** Stores one chunk of sequences in one transaction. */
  putSequences(id: string, items: StoredSequence[]): void {
    const ins = this.db.prepare(
      'INSERT INTO experiment_sequences (experiment_id, condition_idx, seq_index, start_id, sequence, outcomes, feature_means) VALUES (?, ?, ?, ?, ?, ?, ?)'
    )
    this.db.transaction(() => {
      for (const s of items)
        ins.run(
          id,
          s.conditionIndex,
          s.index,
          s.startId,
          s.sequence,
          JSON.stringify(s.outcomes),
          encodeFeatureMeans(s.featureMeans)
        )
      this.db.prepare('UPDATE experiments SET updated_at = ? WHERE id = ?').run(new Date().toISOString(), id)
    })()
  }

  /** Stored sequences (optionally of one condition), by condition then index; feature means only when asked. */
  sequences(
    id: string,
    opts: { conditionIndex?: number; withMeans?: boolean; offset?: number; limit?: number } = {}
  ): StoredSequence[] {
    const where = opts.conditionIndex === undefined ? '' : ' AND condition_idx = @c'
    const rows = this.db
      .prepare(
        `SELECT condition_idx, seq_index, start_id, sequence, outcomes${opts.withMeans ? ', feature_means' : ''} FROM experiment_sequences WHERE experiment_id = @id${where} ORDER BY condition_idx, seq_index LIMIT @limit OFFSET @offset`
      )
      .all({ id, c: opts.conditionIndex, limit: opts.limit ?? -1, offset: opts.offset ?? 0 }) as {
      condition_idx: number
      seq_index: number
      start_id: string
      sequence: string
      outcomes: string
      feature_means?: Buffer
    }[]
    return rows.map(r => ({
      conditionIndex: r.condition_idx,
      index: r.seq_index,
      startId: r.start_id,
      sequence: r.sequence,
      outcomes: JSON.parse(r.outcomes) as SequenceOutcomes,
      featureMeans: r.feature_means ? decodeFeatureMeans(r.feature_means) : new Map()
    }))
  }

  /** Rewrites the outcomes of stored sequences (the summary's diversity values). */
  updateOutcomes(id: string, items: ExperimentSequence[]): void {
    const up = this.db.prepare(
      'UPDATE experiment_sequences SET outcomes = ? WHERE experiment_id = ? AND condition_idx = ? AND seq_index = ?'
    )
    this.db.transaction(() => {
      for (const s of items) up.run(JSON.stringify(s.outcomes), id, s.conditionIndex, s.index)
    })()
  }

  setSummary(id: string, summary: ExperimentSummary, status: ExperimentStatus): void {
    this.db
      .prepare('UPDATE experiments SET summary = ?, status = ?, updated_at = ? WHERE id = ?')
      .run(JSON.stringify(summary), status, new Date().toISOString(), id)
  }

  setStatus(id: string, status: ExperimentStatus): void {
    this.db
      .prepare('UPDATE experiments SET status = ?, updated_at = ? WHERE id = ?')
      .run(status, new Date().toISOString(), id)
  }

  summary(id: string): ExperimentSummary | undefined {
    const s = this.row(id).summary
    return s ? (JSON.parse(s) as ExperimentSummary) : undefined
  }

  list(): ExperimentInfo[] {
    const rows = this.db
      .prepare('SELECT id, name, design, status, created_at, updated_at FROM experiments ORDER BY updated_at DESC, id')
      .all() as ExperimentRow[]
    const count = this.db.prepare('SELECT COUNT(*) AS n FROM experiment_sequences WHERE experiment_id = ?')
    const conds = this.db.prepare('SELECT COUNT(*) AS n FROM experiment_conditions WHERE experiment_id = ?')
    return rows.map(r => {
      const c = (conds.get(r.id) as { n: number }).n
      const design = JSON.parse(r.design) as ExperimentDesign
      return {
        id: r.id,
        name: r.name,
        status: r.status,
        conditions: c,
        sequences: c * design.n,
        done: (count.get(r.id) as { n: number }).n,
        createdAt: r.created_at,
        updatedAt: r.updated_at
      }
    })
  }

  // ------------------------------------------------------------------------------ steering runs

  putSteeringRun(run: SteeringRunRecord): void {
    this.db
      .prepare('INSERT OR REPLACE INTO steering_runs (id, created_at, record) VALUES (?, ?, ?)')
      .run(run.id, run.createdAt, JSON.stringify(run))
  }

  steeringRun(id: string): SteeringRunRecord | undefined {
    const r = this.db.prepare('SELECT record FROM steering_runs WHERE id = ?').get(id) as { record: string } | undefined
    return r ? (JSON.parse(r.record) as SteeringRunRecord) : undefined
  }

  steeringRuns(): SteeringRunSummary[] {
    const rows = this.db.prepare('SELECT record FROM steering_runs ORDER BY created_at DESC').all() as {
      record: string
    }[]
    return rows.map(row => steeringRunSummaryOf(JSON.parse(row.record) as SteeringRunRecord))
  }
}

/** The list's view of a steering run. */
export function steeringRunSummaryOf(r: SteeringRunRecord): SteeringRunSummary {
  return {
    id: r.id,
    createdAt: r.createdAt,
    mode: r.settings.mode,
    n: r.sequences.length,
    clamps: r.clamps,
    parentId: r.parent?.id
  }
}
