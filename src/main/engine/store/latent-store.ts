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
  AnnotationType,
  BadRecordReport,
  FeatureLabelUpdate,
  ResidueAnnotation,
  RunInfo,
  RunStatus,
  StoreInfo
} from '../../../shared/store-types'
import { ANNOTATION_LABELS } from '../../../shared/store-types'
import type { ProteinRecord } from '../io/protein-input'
import type { SparseLatents } from '../sae/sparse-latents'
import { decodeFeatureMajor, encodeLatents, type FeatureMajorLatents } from './latent-codec'
import { conceptScoringOf } from './concepts'
import {
  DEFAULT_STATISTICS,
  FeatureStatisticsBuilder,
  type StatisticsResult,
  type StatisticsSettings
} from './feature-statistics'
import type { ProteinStructures } from './protein-structures'
import { FeatureQueries } from './feature-queries'
import { ProteinQueries } from './protein-queries'
import { SCHEMA_VERSION, migrate } from './schema'
import { FeatureOutOfRangeError, runIdentityOf, StoreReader, type RunRow } from './store-reader'

export { FeatureOutOfRangeError, NotInStoreError, type RunRow } from './store-reader'

/** A protein to store: a record of the input (io/protein-input.ts), its file and line optional. */
export type NewProtein = Omit<ProteinRecord, 'file' | 'line'> & Partial<Pick<ProteinRecord, 'file' | 'line'>>

/** What identifies a run (model + SAE + layer) and what it is created with. */
export type RunKey = Pick<RunInfo, 'modelName' | 'modelHash' | 'saeName' | 'saeHash' | 'layer' | 'dSae'> &
  Partial<Pick<RunInfo, 'settings'>>

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

/**
 * How long a write waits for another connection's write to finish (SQLite busy timeout). Every write
 * transaction starts IMMEDIATE, so a conflicting write waits here instead of failing with "database is locked".
 */
export const STORE_BUSY_TIMEOUT_MS = 60_000
/** `PRAGMA application_id` of a PLM-SAE store ("PLMS"): marks the file as ours. */
export const STORE_APPLICATION_ID = 0x504c4d53

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

/**
 * The store's write path (open and migrate, proteins, runs, latents, statistics, labels) and its run
 * metadata; the views read through `features` (feature-queries.ts) and `proteins` (protein-queries.ts).
 */
export class LatentStore extends StoreReader {
  /** The feature views' queries (feature table, overview, detail, concept predictors, export). */
  readonly features: FeatureQueries = new FeatureQueries(this)
  /** The protein views' queries (protein list and detail, feature tracks, features on a protein). */
  readonly proteins: ProteinQueries = new ProteinQueries(this)

  private constructor(
    path: string,
    db: Database.Database,
    private readonly ino: number
  ) {
    super(path, db)
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

  private toRunInfo(r: RunRow): RunInfo {
    const counts = this.latentCounts(r.id)
    const stats = this.stmt('SELECT proteins FROM run_stats WHERE run_id = ?').get(r.id) as
      { proteins: number } | undefined
    const settings = JSON.parse(r.settings) as Record<string, unknown>
    return {
      ...runIdentityOf(r),
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

  // ---- concept predictors ----------------------------------------------------------------------------------

  // ---- export ----------------------------------------------------------------------------------------------
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
