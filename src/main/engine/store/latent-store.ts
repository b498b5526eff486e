/**
 * `LatentStore`: one SQLite file per project (better-sqlite3, WAL, foreign keys) holding the proteins, the
 * indexing runs (model + SAE + layer), per run × protein the SAE latents in the compact blob encoding of
 * latent-codec.ts, the per-feature statistics / examples / concept association computed from them, and the
 * user's feature labels and notes (keyed by SAE hash, so they survive re-indexing).
 *
 * Every UI query reads precomputed, indexed tables (or one protein's blob): see the README for timings.
 */
import Database from 'better-sqlite3'
import { statSync } from 'node:fs'
import { basename } from 'node:path'
import type {
  BadRecordReport,
  BestConcept,
  ConceptAssociation,
  FeatureDetail,
  FeatureExportQuery,
  FeatureLabelUpdate,
  FeatureListQuery,
  FeatureListResult,
  FeatureOverview,
  FeatureProteinActivation,
  FeatureSummary,
  ProteinDetail,
  ProteinFeatureHit,
  ProteinFeaturesQuery,
  ProteinFeaturesResult,
  ProteinListQuery,
  ProteinListResult,
  ProteinSummary,
  QuantileBucketSample,
  ResidueAnnotation,
  RunInfo,
  RunStatus,
  StoreInfo,
  AnnotationType,
  ConceptPredictor,
  FeatureLabelCard
} from '../../../shared/store-types'
import { ANNOTATION_LABELS } from '../../../shared/store-types'
import type { SparseLatents } from '../sae/sparse-latents'
import { decodeFeatureMajor, encodeLatents, trackOf, type FeatureMajorLatents } from './latent-codec'
import { conceptScoringOf } from './concepts'
import {
  DEFAULT_STATISTICS,
  FeatureStatisticsBuilder,
  conceptScores,
  exampleProteinIds,
  type ConceptCounts,
  readExamples,
  type Example,
  type StatisticsResult,
  type StatisticsSettings
} from './feature-statistics'
import { clampRange, featuresInRange, type RangeHit } from './protein-features'
import type { ProteinStructures } from './protein-structures'
import { SCHEMA_VERSION, migrate } from './schema'

export interface NewProtein {
  accession: string
  name: string
  organism: string
  description: string
  sequence: string
  annotations: ResidueAnnotation[]
  file?: string
  line?: number
}

export interface RunKey {
  modelName: string
  modelHash: string
  saeName: string
  saeHash: string
  layer: number
  dSae: number
  settings?: Record<string, unknown>
}

export interface StatisticsProgress {
  pass: 1 | 2 | 3
  proteins: number
  total: number
}

export interface OpenOptions {
  /** Migrate only up to this schema version (for tests of migrations). */
  schemaVersion?: number
  readonly?: boolean
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

interface ProteinRow {
  id: number
  accession: string
  name: string
  organism: string
  description: string
  sequence: string
  length: number
  annotations: string
}

interface StatsRow {
  feature: number
  firing_residues: number
  firing_proteins: number
  freq_residue: number
  freq_protein: number
  max: number
  mean_nz: number
  std_nz: number
  dead: number
  best_type: string | null
  best_f1: number
  best_precision: number
  best_recall: number
  best_threshold: number
  hist_small: string
  label: string | null
  notes: string | null
  best_note: string
  best_domain_type: string | null
  best_domain_note: string
  best_domain_f1: number
  best_domain_precision: number
  best_domain_recall: number
  best_domain_threshold: number
  generated_label: string
}

const MAX_FEATURE_PAGE = 20_000
/**
 * How long a write waits for another connection's write to finish (SQLite busy timeout). Every write
 * transaction starts IMMEDIATE, so a conflicting write waits here instead of failing with "database is locked".
 */
export const STORE_BUSY_TIMEOUT_MS = 60_000
/** `PRAGMA application_id` of a PLM-SAE store ("PLMS"): marks the file as ours. */
export const STORE_APPLICATION_ID = 0x504c4d53

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

/**
 * Refuses a database that belongs to another application: one with another `application_id`, or with tables
 * (or a `user_version`) but no `schema_version` table of ours. An empty file is fine (a new store).
 */
function checkOurs(db: Database.Database, path: string): void {
  const appId = db.pragma('application_id', { simple: true }) as number
  const what = `${path}: not a PLM-SAE store`
  const todo = 'pass the path of a project store (or a new file name) to --db; the file was not changed'
  if (appId !== 0 && appId !== STORE_APPLICATION_ID) {
    throw new Error(
      `${what} (it belongs to another application: SQLite application_id 0x${appId.toString(16)}); ${todo}`
    )
  }
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .pluck()
    .all() as string[]
  if (tables.includes('schema_version')) return
  if (tables.length > 0) {
    const shown = tables.slice(0, 5).join(', ') + (tables.length > 5 ? ', ...' : '')
    throw new Error(`${what} (an SQLite database of another application, with tables ${shown}); ${todo}`)
  }
  const userVersion = db.pragma('user_version', { simple: true }) as number
  if (userVersion !== 0)
    throw new Error(`${what} (an SQLite database of another application, user_version ${userVersion}); ${todo}`)
}
const PAGE_PROTEINS = 128

function now(): string {
  return new Date().toISOString()
}

function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, c => `\\${c}`)}%`
}

export class LatentStore {
  readonly db: Database.Database
  private readonly statements = new Map<string, Database.Statement>()
  private readonly overviews = new Map<number, { stamp: string; overview: FeatureOverview }>()

  private constructor(
    readonly path: string,
    db: Database.Database,
    private readonly ino: number
  ) {
    this.db = db
  }

  /** Opens (creating when missing) and migrates the store at `path`. */
  static open(path: string, opts: OpenOptions = {}): LatentStore {
    let db: Database.Database
    try {
      db = new Database(path, {
        readonly: opts.readonly ?? false,
        fileMustExist: opts.readonly ?? false,
        timeout: STORE_BUSY_TIMEOUT_MS
      })
    } catch (e) {
      throw new Error(`${path}: cannot open the store (${(e as Error).message})`, { cause: e })
    }
    let ino: number
    try {
      checkOurs(db, path)
      if (!opts.readonly) {
        db.pragma('journal_mode = WAL')
        db.pragma('synchronous = NORMAL')
      }
      db.pragma('foreign_keys = ON')
      db.pragma('cache_size = -65536')
      if (!opts.readonly) {
        migrate(db, path, opts.schemaVersion ?? SCHEMA_VERSION)
        if ((db.pragma('application_id', { simple: true }) as number) === 0)
          db.pragma(`application_id = ${STORE_APPLICATION_ID}`)
      }
      ino = statSync(path).ino
    } catch (e) {
      db.close()
      const msg = (e as Error).message
      if (/file is not a database/i.test(msg))
        throw new Error(`${path}: not a PLM-SAE store (not an SQLite file)`, { cause: e })
      throw e
    }
    return new LatentStore(path, db, ino)
  }

  /**
   * Throws when the store's file was deleted or replaced since it was opened (e.g. the project folder was
   * removed while a job wrote to it): writing on would only fill a file nobody can open again.
   */
  assertFilePresent(): void {
    let ino: number | undefined
    try {
      ino = statSync(this.path).ino
    } catch {
      ino = undefined
    }
    if (ino !== this.ino) {
      throw new Error(
        `${basename(this.path)} was ${ino === undefined ? 'deleted' : 'replaced'} while this job was writing to it (was the project or its folder removed?); ` +
          'the job stopped. Index again into a project that exists.'
      )
    }
  }

  close(): void {
    if (this.db.open) this.db.close()
  }

  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql)
    if (!s) {
      s = this.db.prepare(sql)
      this.statements.set(sql, s)
    }
    return s
  }

  get schemaVersion(): number {
    const row = this.stmt('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null }
    return row.v ?? 0
  }

  info(): StoreInfo {
    const p = this.stmt('SELECT COUNT(*) AS n, COALESCE(SUM(length), 0) AS r FROM proteins').get() as {
      n: number
      r: number
    }
    let bytes = 0
    for (const suffix of ['', '-wal']) {
      try {
        bytes += statSync(this.path + suffix).size
      } catch {
        /* missing -wal is fine */
      }
    }
    return {
      path: this.path,
      schemaVersion: this.schemaVersion,
      proteins: p.n,
      residues: p.r,
      bytes,
      runs: this.runs()
    }
  }

  // ---- proteins --------------------------------------------------------------------------------------------

  /**
   * Adds proteins (in one transaction), returning each one's id. A protein whose accession is already stored
   * with the same sequence is not added again; with a different sequence it is a conflict (reported, id -1).
   */
  addProteins(proteins: NewProtein[]): { ids: number[]; added: number; conflicts: BadRecordReport[] } {
    const find = this.stmt('SELECT id, sequence FROM proteins WHERE accession = ?')
    const insert = this.stmt(
      `INSERT INTO proteins (accession, name, organism, description, sequence, length, annotations, source_file, source_line)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
    )
    const ids: number[] = []
    const conflicts: BadRecordReport[] = []
    let added = 0
    this.db
      .transaction(() => {
        for (const p of proteins) {
          const existing = find.get(p.accession) as { id: number; sequence: string } | undefined
          if (existing) {
            if (existing.sequence === p.sequence) ids.push(existing.id)
            else {
              ids.push(-1)
              conflicts.push({
                file: p.file ?? '',
                line: p.line ?? 0,
                id: p.accession,
                message: `"${p.accession}" is already in the store with a different sequence (${existing.sequence.length} vs ${p.sequence.length} residues); give it another id or use a new store`
              })
            }
            continue
          }
          const r = insert.run(
            p.accession,
            p.name,
            p.organism,
            p.description,
            p.sequence,
            p.sequence.length,
            JSON.stringify(p.annotations),
            p.file ?? '',
            p.line ?? 0
          )
          ids.push(Number(r.lastInsertRowid))
          added++
        }
      })
      .immediate()
    return { ids, added, conflicts }
  }

  private proteinRow(ref: number | string): ProteinRow | undefined {
    if (typeof ref === 'number')
      return this.stmt('SELECT * FROM proteins WHERE id = ?').get(ref) as ProteinRow | undefined
    return this.stmt('SELECT * FROM proteins WHERE accession = ?').get(ref) as ProteinRow | undefined
  }

  protein(ref: number | string): ProteinDetail | undefined {
    const r = this.proteinRow(ref)
    return r ? toProteinDetail(r) : undefined
  }

  listProteins(q: ProteinListQuery = {}): ProteinListResult {
    const offset = Math.max(0, Math.floor(q.offset ?? 0))
    const limit = Math.max(0, Math.min(1000, Math.floor(q.limit ?? 100)))
    const text = q.text?.trim()
    const where = text
      ? `WHERE accession LIKE @like ESCAPE '\\' OR name LIKE @like ESCAPE '\\' OR organism LIKE @like ESCAPE '\\' OR description LIKE @like ESCAPE '\\'`
      : ''
    const params = text ? { like: likePattern(text) } : {}
    const total = (this.stmt(`SELECT COUNT(*) AS n FROM proteins ${where}`).get(params) as { n: number }).n
    const rows = this.stmt(
      `SELECT id, accession, name, organism, length FROM proteins ${where} ORDER BY id LIMIT @limit OFFSET @offset`
    ).all({
      ...params,
      limit,
      offset
    }) as ProteinSummary[]
    return { total, offset, items: rows }
  }

  // ---- runs ------------------------------------------------------------------------------------------------

  /** The run of this model + SAE + layer, if there is one. */
  findRun(key: Pick<RunKey, 'modelHash' | 'saeHash' | 'layer'>): RunInfo | undefined {
    const found = this.stmt('SELECT id FROM runs WHERE model_hash = ? AND sae_hash = ? AND layer = ?')
      .pluck()
      .get(key.modelHash, key.saeHash, key.layer) as number | undefined
    return found === undefined ? undefined : this.run(found)
  }

  /** The run of this model + SAE + layer, created when new. */
  ensureRun(key: RunKey): RunInfo {
    return this.db
      .transaction((): RunInfo => {
        const found = this.stmt('SELECT id, d_sae FROM runs WHERE model_hash = ? AND sae_hash = ? AND layer = ?').get(
          key.modelHash,
          key.saeHash,
          key.layer
        ) as { id: number; d_sae: number } | undefined
        if (found) {
          if (found.d_sae !== key.dSae)
            throw new Error(`run ${found.id} has dSae ${found.d_sae} but the SAE now has ${key.dSae}`)
          this.stmt('UPDATE runs SET settings = ?, model_name = ?, sae_name = ?, updated_at = ? WHERE id = ?').run(
            JSON.stringify(key.settings ?? {}),
            key.modelName,
            key.saeName,
            now(),
            found.id
          )
          return this.run(found.id)!
        }
        const t = now()
        const r = this.stmt(
          `INSERT INTO runs (model_name, model_hash, sae_name, sae_hash, layer, d_sae, settings, status, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'indexing', ?, ?)`
        ).run(
          key.modelName,
          key.modelHash,
          key.saeName,
          key.saeHash,
          key.layer,
          key.dSae,
          JSON.stringify(key.settings ?? {}),
          t,
          t
        )
        return this.run(Number(r.lastInsertRowid))!
      })
      .immediate()
  }

  /**
   * Puts a run back to a state it had (status, settings, updated_at): after an attempt that failed or was
   * cancelled without changing its work, so a complete run stays complete.
   */
  restoreRun(run: Pick<RunInfo, 'id' | 'status' | 'settings' | 'updatedAt'>): void {
    this.stmt('UPDATE runs SET status = ?, settings = ?, updated_at = ? WHERE id = ?').run(
      run.status,
      JSON.stringify(run.settings),
      run.updatedAt,
      run.id
    )
  }

  /** Sets (or clears, with []) the run's warnings: kept in its settings, shown with the run. */
  setRunWarnings(id: number, warnings: string[]): void {
    this.db
      .transaction(() => {
        const r = this.stmt('SELECT settings FROM runs WHERE id = ?').pluck().get(id) as string | undefined
        if (r === undefined) return
        const settings = JSON.parse(r) as Record<string, unknown>
        if (warnings.length > 0) settings.warnings = warnings
        else delete settings.warnings
        this.stmt('UPDATE runs SET settings = ? WHERE id = ?').run(JSON.stringify(settings), id)
      })
      .immediate()
  }

  /** Residues, stored nonzero latents and dead features of a run (for the sanity check after indexing). */
  runSparsity(runId: number): { residues: number; nonzeros: number; deadFeatures: number | undefined } {
    const l = this.stmt(
      'SELECT COALESCE(SUM(rows), 0) AS r, COALESCE(SUM(nnz), 0) AS n FROM latents WHERE run_id = ?'
    ).get(runId) as { r: number; n: number }
    const hasStats = this.stmt('SELECT 1 FROM run_stats WHERE run_id = ?').get(runId) !== undefined
    const dead = hasStats
      ? (this.stmt('SELECT COUNT(*) FROM feature_stats WHERE run_id = ? AND dead = 1').pluck().get(runId) as number)
      : undefined
    return { residues: l.r, nonzeros: l.n, deadFeatures: dead }
  }

  run(id: number): RunInfo | undefined {
    const r = this.stmt('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined
    return r ? this.toRunInfo(r) : undefined
  }

  runs(): RunInfo[] {
    return (this.stmt('SELECT * FROM runs ORDER BY id').all() as RunRow[]).map(r => this.toRunInfo(r))
  }

  setRunStatus(id: number, status: RunStatus): void {
    this.stmt('UPDATE runs SET status = ?, updated_at = ? WHERE id = ?').run(status, now(), id)
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

  private resolveRun(runId: number | undefined): RunRow {
    const id = runId ?? this.defaultRunId()
    const r = this.stmt('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined
    if (!r) throw new NotInStoreError(`${this.path}: no run ${id} in this store`)
    return r
  }

  private toRunInfo(r: RunRow): RunInfo {
    const counts = this.latentCounts(r.id)
    const stats = this.stmt('SELECT proteins FROM run_stats WHERE run_id = ?').get(r.id) as
      { proteins: number } | undefined
    const settings = JSON.parse(r.settings) as Record<string, unknown>
    return {
      id: r.id,
      modelName: r.model_name,
      modelHash: r.model_hash,
      saeName: r.sae_name,
      saeHash: r.sae_hash,
      layer: r.layer,
      dSae: r.d_sae,
      settings,
      status: r.status as RunStatus,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      proteins: counts.proteins,
      residues: counts.residues,
      statsUpToDate: stats !== undefined && stats.proteins === counts.proteins,
      ...(Array.isArray(settings.warnings) && settings.warnings.length > 0
        ? { warnings: settings.warnings.map(String) }
        : {})
    }
  }

  private latentCounts(runId: number): { proteins: number; residues: number; bytes: number } {
    const r = this.stmt(
      'SELECT COUNT(*) AS n, COALESCE(SUM(rows), 0) AS r, COALESCE(SUM(length(data)), 0) AS b FROM latents WHERE run_id = ?'
    ).get(runId) as {
      n: number
      r: number
      b: number
    }
    return { proteins: r.n, residues: r.r, bytes: r.b }
  }

  /** Bytes of latent blobs and residues of a run (for the size figures). */
  latentBytes(runId: number): { proteins: number; residues: number; bytes: number } {
    return this.latentCounts(runId)
  }

  // ---- latents ---------------------------------------------------------------------------------------------

  /** Ids of the proteins that already have latents in this run. */
  proteinsWithLatents(runId: number): Set<number> {
    const out = new Set<number>()
    for (const r of this.stmt('SELECT protein_id FROM latents WHERE run_id = ?').pluck().iterate(runId))
      out.add(r as number)
    return out
  }

  hasLatents(runId: number, proteinId: number): boolean {
    return this.stmt('SELECT 1 FROM latents WHERE run_id = ? AND protein_id = ?').get(runId, proteinId) !== undefined
  }

  /**
   * Stores the latents of several proteins in one transaction. A protein that already has latents in the run
   * keeps them (so a resumed job never counts anything twice). Returns the bytes written.
   */
  putLatents(runId: number, items: { proteinId: number; latents: SparseLatents }[]): number {
    const insert = this.stmt(
      'INSERT OR IGNORE INTO latents (run_id, protein_id, rows, nnz, data) VALUES (?, ?, ?, ?, ?)'
    )
    const len = this.stmt('SELECT length FROM proteins WHERE id = ?').pluck()
    const encoded = items.map(it => ({ it, blob: encodeLatents(it.latents) }))
    let bytes = 0
    this.db
      .transaction(() => {
        for (const { it, blob } of encoded) {
          const length = len.get(it.proteinId) as number | undefined
          if (length === undefined) throw new Error(`latents for protein ${it.proteinId}, which is not in the store`)
          if (length !== it.latents.rows) {
            throw new Error(
              `latents of protein ${it.proteinId} have ${it.latents.rows} rows but the protein has ${length} residues`
            )
          }
          const r = insert.run(runId, it.proteinId, it.latents.rows, it.latents.indptr[it.latents.rows], blob)
          if (r.changes > 0) bytes += blob.length
        }
        this.stmt('UPDATE runs SET updated_at = ? WHERE id = ?').run(now(), runId)
      })
      .immediate()
    return bytes
  }

  /** One protein's stored latents (feature-major), or undefined when not indexed in this run. */
  latents(runId: number, proteinId: number): FeatureMajorLatents | undefined {
    const row = this.stmt('SELECT data FROM latents WHERE run_id = ? AND protein_id = ?').get(runId, proteinId) as
      { data: Buffer } | undefined
    return row ? decodeFeatureMajor(row.data) : undefined
  }

  /** One feature's per-residue track on one protein, redrawn from the stored latents. */
  featureTrack(runId: number, protein: number | string, feature: number): number[] {
    const p = this.proteinRow(protein)
    if (!p) throw new NotInStoreError(`no protein ${protein} in the store`)
    const m = this.latents(runId, p.id)
    if (!m) throw new NotInStoreError(`protein ${p.accession} has no latents in run ${runId}`)
    return Array.from(trackOf(m, feature))
  }

  /**
   * Streams the stored latents of a run in protein id order, a page at a time: the raw blob (decode it with
   * `decodeFeatureMajor`) with the protein's length and annotations (JSON).
   */
  *scanLatentBlobs(
    runId: number
  ): Generator<{ proteinId: number; data: Uint8Array; length: number; annotations: string }> {
    const page = this.stmt(
      `SELECT l.protein_id AS id, l.data AS data, p.length AS length, p.annotations AS annotations
       FROM latents l JOIN proteins p ON p.id = l.protein_id
       WHERE l.run_id = ? AND l.protein_id > ? ORDER BY l.protein_id LIMIT ?`
    )
    let last = -1
    for (;;) {
      const rows = page.all(runId, last, PAGE_PROTEINS) as {
        id: number
        data: Buffer
        length: number
        annotations: string
      }[]
      if (rows.length === 0) return
      for (const r of rows) yield { proteinId: r.id, data: r.data, length: r.length, annotations: r.annotations }
      last = rows[rows.length - 1].id
    }
  }

  /** Like `scanLatentBlobs`, decoded. */
  *scanLatents(
    runId: number
  ): Generator<{ proteinId: number; latents: FeatureMajorLatents; length: number; annotations: string }> {
    for (const r of this.scanLatentBlobs(runId))
      yield {
        proteinId: r.proteinId,
        latents: decodeFeatureMajor(r.data),
        length: r.length,
        annotations: r.annotations
      }
  }

  // ---- statistics ------------------------------------------------------------------------------------------

  /**
   * True when the stored statistics cover every protein with latents in the run (and, when `settings` are
   * given, were computed with those settings).
   */
  statsUpToDate(runId: number, settings?: StatisticsSettings): boolean {
    const s = this.stmt('SELECT proteins, settings FROM run_stats WHERE run_id = ?').get(runId) as
      { proteins: number; settings: string } | undefined
    if (s === undefined || s.proteins !== this.latentCounts(runId).proteins) return false
    return settings === undefined || canonicalJson(JSON.parse(s.settings)) === canonicalJson(settings)
  }

  /**
   * Recomputes every per-feature statistic of the run from its stored latents (two passes), then replaces the
   * old statistics in one transaction: a crash leaves either the old or the new statistics, never a mix.
   * Yields to the event loop between pages so a cancel signal can interrupt it.
   */
  async computeStatistics(
    runId: number,
    settings: Partial<StatisticsSettings> = {},
    opts: {
      signal?: AbortSignal
      onProgress?: (p: StatisticsProgress) => void
      /** The project's structures, for the label cards' 3D clustering. */
      structures?: ProteinStructures
    } = {}
  ): Promise<StatisticsResult> {
    const run = this.resolveRun(runId)
    const st: StatisticsSettings = { ...DEFAULT_STATISTICS, ...settings }
    st.concepts = conceptScoringOf(st.concepts)
    const total = this.latentCounts(runId).proteins
    const builder = new FeatureStatisticsBuilder(run.d_sae, st, opts.structures)
    const annotationsOf = (annotations: string): ResidueAnnotation[] | undefined =>
      annotations === '[]' ? undefined : (JSON.parse(annotations) as ResidueAnnotation[])
    const proteinOf = this.stmt('SELECT accession, sequence FROM proteins WHERE id = ?')
    let chosen: Set<number> | undefined
    for (const pass of [1, 2, 3] as const) {
      let n = 0
      for (const item of this.scanLatentBlobs(runId)) {
        n++
        if (n % PAGE_PROTEINS === 0) {
          opts.onProgress?.({ pass, proteins: n, total })
          await new Promise(r => setImmediate(r))
          if (opts.signal?.aborted) throw new Error('cancelled')
        }
        if (pass === 3 && !chosen!.has(item.proteinId)) continue
        const latents = decodeFeatureMajor(item.data)
        const scan =
          pass === 3
            ? {
                proteinId: item.proteinId,
                latents,
                ...(proteinOf.get(item.proteinId) as { accession: string; sequence: string })
              }
            : { proteinId: item.proteinId, latents, annotations: annotationsOf(item.annotations) }
        if (pass === 1) builder.addPass1(scan)
        else if (pass === 2) builder.addPass2(scan)
        else builder.addPass3(scan)
      }
      opts.onProgress?.({ pass, proteins: n, total })
      if (pass === 1) builder.endPass1()
      if (pass === 2) chosen = builder.endPass2()
    }
    const result = builder.finish()
    this.writeStatistics(runId, st, result)
    return result
  }

  private writeStatistics(runId: number, st: StatisticsSettings, res: StatisticsResult): void {
    const insStats = this.stmt(
      `INSERT INTO feature_stats (run_id, feature, firing_residues, firing_proteins, freq_residue, freq_protein, max, mean_nz, std_nz, dead,
         best_type, best_f1, best_precision, best_recall, best_threshold, concept_text, hist_small,
         best_note, best_domain_type, best_domain_note, best_domain_f1, best_domain_precision, best_domain_recall, best_domain_threshold, generated_label)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
    )
    const insConcept = this.stmt(
      `INSERT INTO feature_concepts (run_id, feature, type, note, per_residue, threshold, precision, recall, f1, tp, predicted, positives, by_threshold,
         domain_threshold, domain_precision, domain_recall, domain_f1, found_instances, instances)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
    )
    const insDetail = this.stmt(
      'INSERT INTO feature_details (run_id, feature, histogram, quantiles, examples, label_card) VALUES (?, ?, ?, ?, ?, ?)'
    )
    const conceptText = (type: AnnotationType, note: string): string =>
      `${type} ${ANNOTATION_LABELS[type]}${note ? ` ${note}` : ''}`
    this.db
      .transaction(() => {
        for (const t of ['feature_stats', 'feature_concepts', 'feature_details', 'run_stats'])
          this.stmt(`DELETE FROM ${t} WHERE run_id = ?`).run(runId)
        for (const f of res.features) {
          const b = f.best
          const bd = f.bestDomain
          const text = [b ? conceptText(b.type, b.note) : '', bd && bd !== b ? conceptText(bd.type, bd.note) : '']
            .filter(Boolean)
            .join(' ')
          insStats.run(
            runId,
            f.feature,
            f.firingResidues,
            f.firingProteins,
            f.freqResidue,
            f.freqProtein,
            f.max,
            f.meanNonzero,
            f.stdNonzero,
            f.dead ? 1 : 0,
            b ? b.type : null,
            b ? b.f1 : 0,
            b ? b.precision : 0,
            b ? b.recall : 0,
            b ? b.threshold : 0,
            text,
            JSON.stringify(f.histSmall),
            b ? b.note : '',
            bd ? bd.type : null,
            bd ? bd.note : '',
            bd ? bd.domain.f1 : 0,
            bd ? bd.domain.precision : 0,
            bd ? bd.domain.recall : 0,
            bd ? bd.domain.threshold : 0,
            f.card.text
          )
          insDetail.run(
            runId,
            f.feature,
            JSON.stringify(f.histogram.counts),
            JSON.stringify(f.quantiles),
            res.examples[f.feature],
            JSON.stringify(f.card)
          )
        }
        for (const c of res.concepts) {
          const d = c.domain
          insConcept.run(
            runId,
            c.feature,
            c.type,
            c.note,
            c.perResidue ? 1 : 0,
            c.threshold,
            c.precision,
            c.recall,
            c.f1,
            c.tp,
            c.predicted,
            c.positives,
            JSON.stringify({
              tp: c.byThreshold.map(b => b.tp),
              predicted: c.byThreshold.map(b => b.predicted),
              found: c.byThreshold.map(b => b.foundInstances)
            }),
            d.threshold,
            d.precision,
            d.recall,
            d.f1,
            d.foundInstances,
            d.instances
          )
        }
        this.stmt(
          `INSERT INTO run_stats (run_id, proteins, residues, annotated_proteins, annotated_residues, settings, computed_at, concepts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
        ).run(
          runId,
          res.proteins,
          res.residues,
          res.annotatedProteins,
          res.annotatedResidues,
          JSON.stringify(st),
          now(),
          JSON.stringify(res.catalogue)
        )
      })
      .immediate()
  }

  // ---- labels ----------------------------------------------------------------------------------------------

  setFeatureLabel(u: FeatureLabelUpdate): { label: string; notes: string } {
    const run = this.resolveRun(u.runId)
    if (!Number.isInteger(u.feature) || u.feature < 0 || u.feature >= run.d_sae)
      throw new FeatureOutOfRangeError(`feature ${u.feature} is not in 0..${run.d_sae - 1}`)
    return this.db.transaction(() => this.writeFeatureLabel(run, u)).immediate()
  }

  private writeFeatureLabel(run: RunRow, u: FeatureLabelUpdate): { label: string; notes: string } {
    const cur = this.stmt('SELECT label, notes FROM feature_labels WHERE sae_hash = ? AND feature = ?').get(
      run.sae_hash,
      u.feature
    ) as { label: string; notes: string } | undefined
    const label = u.label ?? cur?.label ?? ''
    const notes = u.notes ?? cur?.notes ?? ''
    this.stmt(
      `INSERT INTO feature_labels (sae_hash, feature, label, notes, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (sae_hash, feature) DO UPDATE SET label = excluded.label, notes = excluded.notes, updated_at = excluded.updated_at`
    ).run(run.sae_hash, u.feature, label, notes, now())
    return { label, notes }
  }

  // ---- feature queries -------------------------------------------------------------------------------------

  private featureWhere(q: Omit<FeatureListQuery, 'offset' | 'limit'>): {
    where: string
    params: Record<string, unknown>
  } {
    const parts = ['s.run_id = @run']
    const params: Record<string, unknown> = {}
    if (q.minFreqResidue !== undefined) {
      parts.push('s.freq_residue >= @minFreqResidue')
      params.minFreqResidue = q.minFreqResidue
    }
    if (q.maxFreqResidue !== undefined) {
      parts.push('s.freq_residue <= @maxFreqResidue')
      params.maxFreqResidue = q.maxFreqResidue
    }
    if (q.minFreqProtein !== undefined) {
      parts.push('s.freq_protein >= @minFreqProtein')
      params.minFreqProtein = q.minFreqProtein
    }
    if (q.minMax !== undefined) {
      parts.push('s.max >= @minMax')
      params.minMax = q.minMax
    }
    if (q.status === 'alive') parts.push('s.dead = 0')
    if (q.status === 'dead') parts.push('s.dead = 1')
    if (q.conceptType === 'any') parts.push('s.best_type IS NOT NULL')
    else if (q.conceptType === 'none') parts.push('s.best_type IS NULL')
    else if (q.conceptType) {
      parts.push('s.best_type = @conceptType')
      params.conceptType = q.conceptType
    }
    if (q.minF1 !== undefined) {
      parts.push('s.best_f1 >= @minF1')
      params.minF1 = q.minF1
    }
    if (q.minF1Domain !== undefined) {
      parts.push('s.best_domain_f1 >= @minF1Domain')
      params.minF1Domain = q.minF1Domain
    }
    if (q.ids) {
      parts.push('s.feature IN (SELECT value FROM json_each(@ids))')
      params.ids = JSON.stringify(q.ids.filter(i => Number.isInteger(i)))
    }
    const text = q.text?.trim()
    if (text) {
      const t = text.replace(/^#/, '')
      parts.push(
        // generated labels carry figures ("F1 0.12"): they are searched for words, not for a bare feature number
        `(s.feature = @textId OR s.concept_text LIKE @like ESCAPE '\\' ${/\p{L}/u.test(t) ? `OR s.generated_label LIKE @like ESCAPE '\\' ` : ''}OR s.feature IN ` +
          `(SELECT feature FROM feature_labels WHERE sae_hash = @sae AND (label LIKE @like ESCAPE '\\' OR notes LIKE @like ESCAPE '\\')))`
      )
      params.textId = /^\d+$/.test(t) ? Number(t) : -1
      params.like = likePattern(text)
    }
    return { where: parts.join(' AND '), params }
  }

  /** ORDER BY of the feature list; ties go by feature id in the same direction, so an index serves it. */
  private orderBy(q: FeatureListQuery): string {
    const dir = q.sort?.dir === 'desc' ? 'DESC' : 'ASC'
    const tie = `s.feature ${dir}`
    switch (q.sort?.key ?? 'id') {
      case 'label':
        return `(COALESCE(l.label, '') = '') ASC, l.label COLLATE NOCASE ${dir}, s.feature ASC`
      case 'freqResidue':
        return `s.freq_residue ${dir}, ${tie}`
      case 'freqProtein':
        return `s.freq_protein ${dir}, ${tie}`
      case 'max':
        return `s.max ${dir}, ${tie}`
      case 'meanNonzero':
        return `s.mean_nz ${dir}, ${tie}`
      case 'bestF1':
        return `s.best_f1 ${dir}, ${tie}`
      case 'bestF1Domain':
        return `s.best_domain_f1 ${dir}, ${tie}`
      case 'concept':
        return `(s.best_type IS NULL) ASC, s.best_type ${dir}, s.best_f1 DESC, s.feature ASC`
      default:
        return tie
    }
  }

  private static readonly SUMMARY_COLUMNS = `s.feature, s.firing_residues, s.firing_proteins, s.freq_residue, s.freq_protein, s.max, s.mean_nz, s.std_nz, s.dead,
    s.best_type, s.best_f1, s.best_precision, s.best_recall, s.best_threshold, s.hist_small, l.label, l.notes,
    s.best_note, s.best_domain_type, s.best_domain_note, s.best_domain_f1, s.best_domain_precision, s.best_domain_recall, s.best_domain_threshold, s.generated_label`

  private requireStats(run: RunRow): void {
    const s = this.stmt('SELECT 1 FROM run_stats WHERE run_id = ?').get(run.id)
    if (!s)
      throw new NotInStoreError(
        `run ${run.id} has no feature statistics yet (the index job computes them when it finishes; run it again to complete them)`
      )
  }

  listFeatures(q: FeatureListQuery = {}): FeatureListResult {
    const run = this.resolveRun(q.runId)
    this.requireStats(run)
    const offset = Math.max(0, Math.floor(q.offset ?? 0))
    const limit = Math.max(0, Math.min(MAX_FEATURE_PAGE, Math.floor(q.limit ?? 100)))
    const { where, params } = this.featureWhere(q)
    const join = 'LEFT JOIN feature_labels l ON l.sae_hash = @sae AND l.feature = s.feature'
    // labels are joined only where the query needs them (text search, sort by label) and for the page itself
    const needLabels = q.sort?.key === 'label'
    const usesSae = needLabels || Boolean(q.text?.trim())
    const all = { ...params, run: run.id, sae: run.sae_hash }
    const order = this.orderBy(q)
    const total = (
      this.stmt(`SELECT COUNT(*) AS n FROM feature_stats s ${needLabels ? join : ''} WHERE ${where}`).get(
        usesSae ? all : { ...params, run: run.id }
      ) as { n: number }
    ).n
    const sql = needLabels
      ? `SELECT ${LatentStore.SUMMARY_COLUMNS} FROM feature_stats s ${join} WHERE ${where} ORDER BY ${order} LIMIT @limit OFFSET @offset`
      : `SELECT ${LatentStore.SUMMARY_COLUMNS} FROM (SELECT s.feature AS f FROM feature_stats s WHERE ${where} ORDER BY ${order} LIMIT @limit OFFSET @offset) page
         CROSS JOIN feature_stats s ON s.run_id = @run AND s.feature = page.f ${join} ORDER BY ${order}`
    const rows = this.stmt(sql).all({ ...all, limit, offset }) as StatsRow[]
    return { runId: run.id, total, offset, items: rows.map(toSummary) }
  }

  /** Every feature's frequency, max and best F1 in compact columns (for the overview scatter plot). */
  featureOverview(runId?: number): FeatureOverview {
    const run = this.resolveRun(runId)
    this.requireStats(run)
    const stamp = (this.stmt('SELECT computed_at FROM run_stats WHERE run_id = ?').pluck().get(run.id) as string) ?? ''
    const cached = this.overviews.get(run.id)
    if (cached && cached.stamp === stamp) return cached.overview
    const rows = this.stmt(
      'SELECT feature, freq_residue, max, best_f1 FROM feature_stats WHERE run_id = ? ORDER BY feature'
    )
      .raw()
      .all(run.id) as number[][]
    const out: FeatureOverview = { runId: run.id, ids: [], freqResidue: [], max: [], bestF1: [] }
    for (const r of rows) {
      out.ids.push(r[0])
      out.freqResidue.push(r[1])
      out.max.push(r[2])
      out.bestF1.push(r[3])
    }
    this.overviews.set(run.id, { stamp, overview: out })
    return out
  }

  /** Everything the feature detail view shows. `topLimit` / `samplesPerBucket` cap the examples returned. */
  feature(feature: number, opts: { runId?: number; topLimit?: number; samplesPerBucket?: number } = {}): FeatureDetail {
    const run = this.resolveRun(opts.runId)
    this.requireStats(run)
    const row = this.stmt(
      `SELECT ${LatentStore.SUMMARY_COLUMNS} FROM feature_stats s LEFT JOIN feature_labels l ON l.sae_hash = ? AND l.feature = s.feature
       WHERE s.run_id = ? AND s.feature = ?`
    ).get(run.sae_hash, run.id, feature) as StatsRow | undefined
    if (!row)
      throw new FeatureOutOfRangeError(`feature ${feature} is not in run ${run.id} (features are 0..${run.d_sae - 1})`)
    const rs = this.stmt('SELECT proteins, residues, settings FROM run_stats WHERE run_id = ?').get(run.id) as {
      proteins: number
      residues: number
      settings: string
    }
    const st = JSON.parse(rs.settings) as StatisticsSettings
    const detail = this.stmt(
      'SELECT histogram, quantiles, examples, label_card FROM feature_details WHERE run_id = ? AND feature = ?'
    ).get(run.id, feature) as
      { histogram: string; quantiles: string; examples: Buffer; label_card: string | null } | undefined
    if (!detail)
      throw new NotInStoreError(`feature ${feature} has no details in run ${run.id}; recompute the statistics`)
    const ids = [...new Set(exampleProteinIds(detail.examples))]
    const proteins = new Map<number, ProteinRow>()
    if (ids.length > 0) {
      for (const p of this.stmt('SELECT p.* FROM json_each(?) j JOIN proteins p ON p.id = j.value').all(
        JSON.stringify(ids)
      ) as ProteinRow[])
        proteins.set(p.id, p)
    }
    const annotations = new Map<number, ResidueAnnotation[]>()
    const annotationsOf = (p: ProteinRow): ResidueAnnotation[] => {
      let a = annotations.get(p.id)
      if (!a) annotations.set(p.id, (a = JSON.parse(p.annotations) as ResidueAnnotation[]))
      return a
    }
    const examples = readExamples(detail.examples, id => proteins.get(id)?.length ?? 0).filter(e =>
      proteins.has(e.proteinId)
    )
    const topLimit = opts.topLimit ?? Infinity
    const perBucket = opts.samplesPerBucket ?? Infinity
    const toActivation = (e: Example): FeatureProteinActivation => {
      const p = proteins.get(e.proteinId)!
      return {
        protein: { id: p.id, accession: p.accession, name: p.name, organism: p.organism, length: p.length },
        sequence: p.sequence,
        max: e.max,
        mean: e.mean,
        argmax: e.argmax + 1,
        firingResidues: e.firing,
        activations: e.activations,
        annotations: annotationsOf(p)
      }
    }
    const topProteins = examples.filter(e => e.kind === 0 && e.rank < topLimit).map(toActivation)
    const buckets: QuantileBucketSample[] = []
    for (let b = 0; b < st.buckets; b++) {
      buckets.push({
        bucket: b,
        lower: (row.max * b) / st.buckets,
        upper: (row.max * (b + 1)) / st.buckets,
        proteins: []
      })
    }
    for (const e of examples)
      if (e.kind === 1 && e.rank < perBucket && buckets[e.bucket]) buckets[e.bucket].proteins.push(toActivation(e))
    const concepts = (
      this.stmt('SELECT * FROM feature_concepts WHERE run_id = ? AND feature = ? ORDER BY f1 DESC, type, note').all(
        run.id,
        feature
      ) as {
        type: string
        note: string
        per_residue: number
        domain_threshold: number | null
        domain_precision: number | null
        domain_recall: number | null
        domain_f1: number | null
        found_instances: number | null
        instances: number | null
        threshold: number
        precision: number
        recall: number
        f1: number
        tp: number
        predicted: number
        positives: number
        by_threshold: string
      }[]
    ).map((c): ConceptAssociation => ({
      type: c.type as AnnotationType,
      threshold: c.threshold,
      precision: c.precision,
      recall: c.recall,
      f1: c.f1,
      truePositives: c.tp,
      predicted: c.predicted,
      positives: c.positives,
      byThreshold: byThresholdOf(c.by_threshold, st.thresholds, c.positives, c.instances ?? 0, c.per_residue === 1),
      note: c.note,
      perResidue: c.per_residue === 1,
      ...(c.domain_f1 === null
        ? {}
        : {
            domain: {
              threshold: c.domain_threshold!,
              precision: c.domain_precision!,
              recall: c.domain_recall!,
              f1: c.domain_f1,
              foundInstances: c.found_instances!,
              instances: c.instances!
            }
          })
    }))
    const summary = toSummary(row)
    return {
      runId: run.id,
      summary,
      stats: {
        totalResidues: rs.residues,
        totalProteins: rs.proteins,
        firingResidues: row.firing_residues,
        firingProteins: row.firing_proteins,
        freqResidue: row.freq_residue,
        freqProtein: row.freq_protein,
        max: row.max,
        meanNonzero: row.mean_nz,
        stdNonzero: row.std_nz
      },
      quantiles: JSON.parse(detail.quantiles) as FeatureDetail['quantiles'],
      histogram: {
        edges: Array.from({ length: st.histogramBins + 1 }, (_, i) => (row.max * i) / st.histogramBins),
        counts: JSON.parse(detail.histogram) as number[]
      },
      topProteins,
      quantileSamples: buckets,
      concepts,
      label: row.label ?? '',
      notes: row.notes ?? '',
      ...(st.concepts ? { conceptScoring: st.concepts } : {}),
      ...(detail.label_card ? { labelCard: JSON.parse(detail.label_card) as FeatureLabelCard } : {})
    }
  }

  /** All features firing on a stored protein over a residue range, sorted by max or mean. */
  proteinFeatures(q: ProteinFeaturesQuery): ProteinFeaturesResult {
    const run = this.resolveRun(q.runId)
    const p = this.proteinRow(q.protein)
    if (!p) throw new NotInStoreError(`no protein ${JSON.stringify(q.protein)} in the store`)
    const m = this.latents(run.id, p.id)
    if (!m) throw new NotInStoreError(`protein ${p.accession} has no latents in run ${run.id}; index it first`)
    const detail = toProteinDetail(p)
    const { sequence, annotations, ...summary } = detail
    return this.rangeResult(run, m, summary, sequence, annotations, q)
  }

  /** The same answer for latents computed live (a sequence typed by the user; nothing is stored). */
  liveFeatures(
    runId: number | undefined,
    sequence: string,
    m: FeatureMajorLatents,
    q: Omit<ProteinFeaturesQuery, 'protein' | 'runId'>
  ): ProteinFeaturesResult {
    const run = this.resolveRun(runId)
    return this.rangeResult(run, m, null, sequence, [], q)
  }

  private rangeResult(
    run: RunRow,
    m: FeatureMajorLatents,
    protein: ProteinSummary | null,
    sequence: string,
    annotations: ResidueAnnotation[],
    q: Omit<ProteinFeaturesQuery, 'protein' | 'runId'>
  ): ProteinFeaturesResult {
    const range = clampRange(m.rows, q.range)
    const sortBy = q.sortBy ?? 'max'
    const offset = Math.max(0, Math.floor(q.offset ?? 0))
    const limit = Math.max(0, Math.floor(q.limit ?? 100))
    const { total, hits: page } = featuresInRange(m, range, sortBy, offset, limit)
    const info = this.featureInfo(run, page)
    const withTracks = Math.max(0, Math.floor(q.withTracks ?? 0))
    const items: ProteinFeatureHit[] = page.map((h, i) => {
      const f = info.get(h.feature)
      const item: ProteinFeatureHit = {
        feature: h.feature,
        label: f?.label ?? '',
        bestConcept: f?.best ?? null,
        max: h.max,
        mean: h.mean,
        argmax: h.argmax,
        firingResidues: h.firing,
        globalMax: f?.max ?? h.max
      }
      if (i < withTracks) item.activations = Array.from(trackOf(m, h.feature))
      return item
    })
    return { runId: run.id, protein, sequence, annotations, range, sortBy, total, offset, items }
  }

  private featureInfo(
    run: RunRow,
    hits: RangeHit[]
  ): Map<number, { label: string; best: BestConcept | null; max: number }> {
    const out = new Map<number, { label: string; best: BestConcept | null; max: number }>()
    if (hits.length === 0) return out
    const rows = this.stmt(
      `SELECT j.value AS feature, s.max, s.best_type, s.best_note, s.best_f1, s.best_precision, s.best_recall, s.best_threshold, l.label
       FROM json_each(?) j
       LEFT JOIN feature_stats s ON s.run_id = ? AND s.feature = j.value
       LEFT JOIN feature_labels l ON l.sae_hash = ? AND l.feature = j.value`
    ).all(JSON.stringify(hits.map(h => h.feature)), run.id, run.sae_hash) as {
      feature: number
      max: number | null
      best_type: string | null
      best_note: string | null
      best_f1: number
      best_precision: number
      best_recall: number
      best_threshold: number
      label: string | null
    }[]
    for (const r of rows) {
      out.set(r.feature, {
        label: r.label ?? '',
        max: r.max ?? 0,
        best: r.best_type
          ? {
              type: r.best_type as AnnotationType,
              f1: r.best_f1,
              precision: r.best_precision,
              recall: r.best_recall,
              threshold: r.best_threshold,
              ...(r.best_note ? { note: r.best_note } : {})
            }
          : null
      })
    }
    return out
  }

  // ---- concept predictors ----------------------------------------------------------------------------------

  /**
   * Every (feature, concept) whose residue F1 is at or above `floor`, with the activation the feature must
   * exceed to predict the concept on a residue (its best threshold × its max): the predictors of concept reports.
   */
  conceptPredictors(runId: number | undefined, floor: number): { runId: number; predictors: ConceptPredictor[] } {
    const run = this.resolveRun(runId)
    this.requireStats(run)
    const rows = this.stmt(
      `SELECT c.feature, c.type, c.note, c.f1, c.threshold, s.max FROM feature_concepts c
       JOIN feature_stats s ON s.run_id = c.run_id AND s.feature = c.feature
       WHERE c.run_id = ? AND c.f1 >= ? ORDER BY c.feature, c.f1 DESC, c.type, c.note`
    ).all(run.id, floor) as {
      feature: number
      type: string
      note: string
      f1: number
      threshold: number
      max: number
    }[]
    return {
      runId: run.id,
      predictors: rows.map(r => ({
        feature: r.feature,
        type: r.type as AnnotationType,
        note: r.note,
        f1: r.f1,
        threshold: r.threshold,
        cut: r.threshold * r.max
      }))
    }
  }

  // ---- export ----------------------------------------------------------------------------------------------

  /** The feature table (all matching features, the list's sort order) as CSV or JSON text. */
  exportFeatures(q: FeatureExportQuery): string {
    const { format, ...query } = q
    const res = this.listFeatures({ ...query, offset: 0, limit: MAX_FEATURE_PAGE })
    let items = res.items
    for (let offset = items.length; offset < res.total; offset += MAX_FEATURE_PAGE) {
      items = items.concat(this.listFeatures({ ...query, offset, limit: MAX_FEATURE_PAGE }).items)
    }
    const rows = items.map(f => ({
      feature: f.id,
      label: f.label,
      best_concept: f.bestConcept?.type ?? '',
      best_f1: f.bestConcept?.f1 ?? 0,
      best_precision: f.bestConcept?.precision ?? 0,
      best_recall: f.bestConcept?.recall ?? 0,
      best_threshold: f.bestConcept?.threshold ?? 0,
      freq_residue: f.freqResidue,
      freq_protein: f.freqProtein,
      max: f.max,
      mean_nonzero: f.meanNonzero,
      dead: f.dead,
      best_concept_note: f.bestConcept?.note ?? '',
      best_domain_concept: f.bestConceptDomain?.type ?? '',
      best_domain_concept_note: f.bestConceptDomain?.note ?? '',
      best_domain_f1: f.bestConceptDomain?.f1 ?? 0,
      best_domain_recall: f.bestConceptDomain?.recall ?? 0,
      best_domain_threshold: f.bestConceptDomain?.threshold ?? 0,
      generated_label: f.generatedLabel ?? ''
    }))
    if (format === 'json') return `${JSON.stringify({ runId: res.runId, features: rows }, null, 1)}\n`
    const header = Object.keys(rows[0] ?? { feature: 0 })
    const cell = (v: unknown): string => {
      const s = typeof v === 'boolean' ? (v ? 'true' : 'false') : String(v)
      return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
    }
    const lines = [header.join(',')]
    for (const r of rows) lines.push(header.map(h => cell((r as Record<string, unknown>)[h])).join(','))
    return `${lines.join('\n')}\n`
  }
}

/**
 * A concept's figures per threshold from its stored counts (schema 6: {tp, predicted, found}); statistics
 * from before schema 6 stored the figures themselves (an array), returned as they are.
 */
function byThresholdOf(
  json: string,
  thresholds: number[],
  positives: number,
  instances: number,
  perResidue: boolean
): ConceptAssociation['byThreshold'] {
  const v = JSON.parse(json) as ConceptCounts | ConceptAssociation['byThreshold']
  if (Array.isArray(v)) return v
  return conceptScores(thresholds, v, positives, instances, perResidue).map(
    ({ threshold, precision, recall, f1, recallDomain, f1Domain }) => ({
      threshold,
      precision,
      recall,
      f1,
      recallDomain,
      f1Domain
    })
  )
}

/** JSON with object keys sorted: equal settings give equal text, whatever order their keys were written in. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>
    return `{${Object.keys(o)
      .sort()
      .map(k => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(v)
}

function toProteinDetail(r: ProteinRow): ProteinDetail {
  return {
    id: r.id,
    accession: r.accession,
    name: r.name,
    organism: r.organism,
    length: r.length,
    sequence: r.sequence,
    description: r.description,
    annotations: JSON.parse(r.annotations) as ResidueAnnotation[]
  }
}

function toSummary(r: StatsRow): FeatureSummary {
  return {
    id: r.feature,
    label: r.label ?? '',
    bestConcept: r.best_type
      ? {
          type: r.best_type as AnnotationType,
          f1: r.best_f1,
          precision: r.best_precision,
          recall: r.best_recall,
          threshold: r.best_threshold,
          ...(r.best_note ? { note: r.best_note } : {})
        }
      : null,
    bestConceptDomain: r.best_domain_type
      ? {
          type: r.best_domain_type as AnnotationType,
          f1: r.best_domain_f1,
          precision: r.best_domain_precision,
          recall: r.best_domain_recall,
          threshold: r.best_domain_threshold,
          ...(r.best_domain_note ? { note: r.best_domain_note } : {})
        }
      : null,
    generatedLabel: r.generated_label ?? '',
    freqResidue: r.freq_residue,
    freqProtein: r.freq_protein,
    max: r.max,
    meanNonzero: r.mean_nz,
    dead: r.dead === 1,
    histogram: JSON.parse(r.hist_small) as number[],
    hasNotes: (r.notes ?? '') !== ''
  }
}
