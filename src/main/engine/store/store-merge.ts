/**
 * `mergeStores`: combines the stores of the shards of one input (`plm-sae index --shard I/N`, io/shard.ts) into
 * one project store, as if the whole input had been indexed in one run.
 *
 * - Checked first, before anything is written: every file is a complete shard store; all shards hold the same
 *   runs (model, SAE, layer, latent count), indexed with the same settings and the same partition of the same
 *   input; together they are shards 1..N of N, each once; every protein of a shard belongs to it (so shards
 *   never overlap); and no protein is already in the target with a different sequence. Every error names the
 *   shard file and says what to do.
 * - Streaming: proteins are read from all shards at once in input order (a k-way merge on the record's line in
 *   the input; within a shard, ids follow the input), so the merged store numbers its proteins exactly as one
 *   run over the whole input would; latent blobs are copied byte for byte, shard by shard, in bounded batches.
 *   No shard is ever loaded into memory.
 * - Resumable and idempotent: every batch is one transaction; a protein or latent row already in the target is
 *   skipped (same accession and sequence; (run, protein) key), so re-running after a kill continues, and
 *   merging the same shards again adds nothing.
 * - Statistics: recomputed from the merged latents with the shards' statistics settings by the same code as an
 *   index run (LatentStore.computeStatistics), so counts, sums, max, histograms, quantiles, concept counts,
 *   top-k proteins and quantile samples are identical to those of one uninterrupted run over the whole input
 *   (same protein ids, same blobs, same order). Skipped when the stored statistics are already up to date.
 */
import Database from 'better-sqlite3'
import { realpathSync } from 'node:fs'
import { basename } from 'node:path'
import { inShard, type ShardSpec, parseShard } from '../io/shard'
import { canonicalJson, type LatentStore } from './latent-store'
import { runIdentityOf, type ProteinRow, type RunIdentity, type RunRow } from './store-reader'
import { DEFAULT_STATISTICS, type StatisticsSettings } from './feature-statistics'

export interface MergeProgress {
  phase: 'checking' | 'proteins' | 'latents' | 'statistics' | 'done'
  /** The shard file being read (checking, latents). */
  shard?: string
  proteinsDone: number
  proteinsTotal: number
  latentsDone: number
  latentsTotal: number
  /** Latent bytes read from the shards so far. */
  bytesRead: number
  /** Statistics progress of the current run, 0..1. */
  statsFraction?: number
}

export interface MergeResult {
  shards: number
  proteinsAdded: number
  proteinsExisting: number
  latentsAdded: number
  latentsExisting: number
  residuesAdded: number
  /** Latent bytes read from the shards / written to the target. */
  bytesRead: number
  bytesAdded: number
  runs: {
    runId: number
    modelName: string
    saeName: string
    layer: number
    proteins: number
    statisticsComputed: boolean
  }[]
  seconds: number
}

export interface MergeOptions {
  target: LatentStore
  shards: string[]
  signal?: AbortSignal
  onProgress?: (p: MergeProgress) => void
  /** Latent rows per committed batch (default 256; a batch is also cut at 32 MB of blobs). */
  batchRows?: number
}

interface ShardRun extends RunIdentity {
  /** The run's settings without the shard number (the same in every shard). */
  settings: Record<string, unknown>
  /** The SAE's fit measured by the shard's task, if it measured one (not compared across shards). */
  fit?: unknown
  stats: StatisticsSettings
  latents: number
}

interface ShardInfo {
  path: string
  name: string
  db: Database.Database
  shard: ShardSpec
  runs: ShardRun[]
  proteins: number
}

const BATCH_BYTES = 32 << 20
/** Run settings only a shard records (besides `shard` itself): compared across shards, left out of the merged run. */
const SHARD_ONLY_SETTINGS = new Set(['shardHash', 'inputBytes'])

function runKey(r: { modelHash: string; saeHash: string; layer: number }): string {
  return `${r.modelHash}|${r.saeHash}|${r.layer}`
}

function describeRun(r: ShardRun): string {
  return `model "${r.modelName}" (${r.modelHash.slice(0, 12)}), SAE "${r.saeName}" (${r.saeHash.slice(0, 12)}), layer ${r.layer}`
}

function cancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new Error('cancelled')
}

/** Opens a shard store read-only and reads what the checks need (runs, shard, counts). */
function openShard(path: string): ShardInfo {
  const name = basename(path)
  let db: Database.Database
  try {
    db = new Database(path, { readonly: true, fileMustExist: true })
  } catch (e) {
    throw new Error(`${path}: cannot open the shard store (${(e as Error).message})`, { cause: e })
  }
  try {
    const tables = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[])
    for (const t of ['schema_version', 'proteins', 'runs', 'latents', 'run_stats']) {
      if (!tables.has(t))
        throw new Error(
          `${path}: not a PLM-SAE store (no table "${t}"); pass the shard stores written by plm-sae index --shard`
        )
    }
    const rows = db.prepare('SELECT * FROM runs ORDER BY id').all() as RunRow[]
    if (rows.length === 0) throw new Error(`${path}: the store has no indexing run; run its shard's index task first`)
    let shard: ShardSpec | undefined
    const runs: ShardRun[] = []
    for (const r of rows) {
      const settings = JSON.parse(r.settings) as Record<string, unknown>
      if (typeof settings.shard !== 'string') {
        throw new Error(
          `${path}: run ${r.id} was indexed without --shard; merge combines the stores of plm-sae index --shard I/N (one per shard)`
        )
      }
      const s = parseShard(settings.shard)
      if (shard && (shard.index !== s.index || shard.count !== s.count))
        throw new Error(`${path}: the store mixes shards ${shard.index}/${shard.count} and ${settings.shard}`)
      shard = s
      const latents = (db.prepare('SELECT COUNT(*) FROM latents WHERE run_id = ?').pluck().get(r.id) as number) ?? 0
      if (r.status !== 'complete') {
        throw new Error(
          `${path} (shard ${settings.shard}): run ${r.id} is "${r.status}" with ${latents} proteins indexed; ` +
            'let its task finish (running it again resumes it) before merging'
        )
      }
      const stats = db.prepare('SELECT proteins, settings FROM run_stats WHERE run_id = ?').get(r.id) as
        { proteins: number; settings: string } | undefined
      if (!stats || stats.proteins !== latents) {
        throw new Error(
          `${path} (shard ${settings.shard}): run ${r.id} has no up-to-date statistics; run its shard's index task again to complete it`
        )
      }
      // The SAE's fit (sae-fit.ts) is measured by each shard's task on the same sample, but nodes of other CPUs may
      // round it differently: it is not compared, and the merged run keeps shard 1's.
      const { shard: _shard, fit, ...rest } = settings
      void _shard
      runs.push({
        ...runIdentityOf(r),
        settings: rest,
        fit,
        stats: { ...DEFAULT_STATISTICS, ...(JSON.parse(stats.settings) as Partial<StatisticsSettings>) },
        latents
      })
    }
    const proteins = db.prepare('SELECT COUNT(*) FROM proteins').pluck().get() as number
    return { path, name, db, shard: shard!, runs, proteins }
  } catch (e) {
    db.close()
    throw e
  }
}

/** All shards hold the same runs with the same settings, and together are shards 1..N of N. */
function checkShards(shards: ShardInfo[]): void {
  const ref = shards[0]
  const refRuns = new Map(ref.runs.map(r => [runKey(r), r]))
  for (const s of shards) {
    if (s.shard.count !== ref.shard.count) {
      throw new Error(
        `${s.path}: is shard ${s.shard.index}/${s.shard.count} but ${ref.path} is shard ${ref.shard.index}/${ref.shard.count}; merge the shards of one partition (the same N)`
      )
    }
    const keys = new Map(s.runs.map(r => [runKey(r), r]))
    for (const [k, r] of keys) {
      const other = refRuns.get(k)
      if (!other) {
        const was = ref.runs.map(describeRun).join('; ')
        throw new Error(
          `${s.path} (shard ${s.shard.index}/${s.shard.count}): indexed with ${describeRun(r)}, but ${ref.path} with ${was}; ` +
            'merge only shards of the same model, SAE and layer'
        )
      }
      if (r.dSae !== other.dSae)
        throw new Error(`${s.path}: run of ${describeRun(r)} has ${r.dSae} latents but ${ref.path} has ${other.dSae}`)
      if (canonicalJson(r.settings) !== canonicalJson(other.settings)) {
        throw new Error(
          `${s.path} (shard ${s.shard.index}/${s.shard.count}): indexed with settings ${canonicalJson(r.settings)}, but ${ref.path} with ${canonicalJson(other.settings)}; ` +
            'merge only shards of the same input indexed with the same settings'
        )
      }
      if (canonicalJson(r.stats) !== canonicalJson(other.stats)) {
        throw new Error(
          `${s.path}: statistics settings ${canonicalJson(r.stats)} differ from ${ref.path}'s ${canonicalJson(other.stats)}`
        )
      }
    }
    for (const [k, r] of refRuns) {
      if (!keys.has(k))
        throw new Error(
          `${s.path} (shard ${s.shard.index}/${s.shard.count}): has no run of ${describeRun(r)}, which ${ref.path} has; index it there too (or merge without it)`
        )
    }
  }
  const byIndex = new Map<number, ShardInfo>()
  for (const s of shards) {
    const dup = byIndex.get(s.shard.index)
    if (dup)
      throw new Error(
        `${s.path} and ${dup.path} both hold shard ${s.shard.index}/${s.shard.count}; pass each shard's store once`
      )
    byIndex.set(s.shard.index, s)
  }
  const missing: string[] = []
  for (let i = 1; i <= ref.shard.count; i++) if (!byIndex.has(i)) missing.push(`${i}/${ref.shard.count}`)
  if (missing.length > 0) {
    throw new Error(
      `shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} missing: pass the stores of all ${ref.shard.count} shards ` +
        '(the merged statistics must cover the whole input); finish the missing tasks first'
    )
  }
}

/** Every protein of every shard belongs to its shard, and none is in the target with another sequence. */
function checkProteins(shards: ShardInfo[], target: LatentStore, opts: MergeOptions, progress: MergeProgress): void {
  const find = target.db.prepare('SELECT sequence FROM proteins WHERE accession = ?').pluck()
  const targetEmpty = target.db.prepare('SELECT 1 FROM proteins LIMIT 1').get() === undefined
  for (const s of shards) {
    progress.shard = s.name
    let n = 0
    for (const p of s.db.prepare('SELECT accession, sequence FROM proteins ORDER BY id').iterate() as IterableIterator<{
      accession: string
      sequence: string
    }>) {
      if (!inShard(p.accession, s.shard)) {
        throw new Error(
          `${s.path}: protein "${p.accession}" does not belong to shard ${s.shard.index}/${s.shard.count} (the partition hashes accessions); ` +
            'this store was not written by plm-sae index --shard alone; re-index that shard into a new store'
        )
      }
      if (!targetEmpty) {
        const seq = find.get(p.accession) as string | undefined
        if (seq !== undefined && seq !== p.sequence) {
          throw new Error(
            `${s.path} (shard ${s.shard.index}/${s.shard.count}): protein "${p.accession}" is already in ${target.path} with a different sequence ` +
              `(${seq.length} vs ${p.sequence.length} residues); merge into a new store, or re-index with distinct ids`
          )
        }
      }
      if (++n % 4096 === 0) opts.onProgress?.({ ...progress })
    }
  }
}

/** Proteins of all shards in input order (k-way merge on the input line), into the target. */
function mergeProteins(
  shards: ShardInfo[],
  target: LatentStore,
  opts: MergeOptions,
  progress: MergeProgress,
  result: MergeResult
): void {
  const cursors = shards.map(
    s => s.db.prepare('SELECT * FROM proteins ORDER BY id').iterate() as IterableIterator<ProteinRow>
  )
  const heads: (ProteinRow | undefined)[] = cursors.map(c => c.next().value as ProteinRow | undefined)
  const find = target.db.prepare('SELECT id, sequence FROM proteins WHERE accession = ?')
  const insert = target.db.prepare(
    `INSERT INTO proteins (accession, name, organism, description, sequence, length, annotations, source_file, source_line)
     VALUES (@accession, @name, @organism, @description, @sequence, @length, @annotations, @source_file, @source_line)`
  )
  const write = target.db.transaction((batch: { row: ProteinRow; shard: ShardInfo }[]) => {
    for (const { row, shard } of batch) {
      const existing = find.get(row.accession) as { id: number; sequence: string } | undefined
      if (existing) {
        if (existing.sequence !== row.sequence) {
          throw new Error(
            `${shard.path} (shard ${shard.shard.index}/${shard.shard.count}): protein "${row.accession}" is already in ${target.path} with a different sequence`
          )
        }
        result.proteinsExisting++
        continue
      }
      const { id: _id, ...values } = row
      void _id
      insert.run(values)
      result.proteinsAdded++
    }
  })
  let batch: { row: ProteinRow; shard: ShardInfo }[] = []
  for (;;) {
    let best = -1
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i]
      if (h && (best < 0 || h.source_line < heads[best]!.source_line)) best = i
    }
    if (best < 0) break
    batch.push({ row: heads[best]!, shard: shards[best] })
    heads[best] = cursors[best].next().value as ProteinRow | undefined
    if (batch.length >= 1024) {
      write(batch)
      batch = []
      progress.proteinsDone = result.proteinsAdded + result.proteinsExisting
      opts.onProgress?.({ ...progress })
      cancelled(opts.signal)
    }
  }
  write(batch)
  progress.proteinsDone = result.proteinsAdded + result.proteinsExisting
}

/** Latent blobs of one shard's run, byte for byte, onto the target's protein ids. */
function mergeLatents(
  shard: ShardInfo,
  run: ShardRun,
  targetRun: number,
  target: LatentStore,
  opts: MergeOptions,
  progress: MergeProgress,
  result: MergeResult
): void {
  const rows = shard.db
    .prepare(
      `SELECT p.accession AS accession, l.rows AS rows, l.nnz AS nnz, l.data AS data
       FROM latents l JOIN proteins p ON p.id = l.protein_id WHERE l.run_id = ? ORDER BY l.protein_id`
    )
    .iterate(run.id) as IterableIterator<{ accession: string; rows: number; nnz: number; data: Buffer }>
  const idOf = target.db.prepare('SELECT id, length FROM proteins WHERE accession = ?')
  const insert = target.db.prepare(
    'INSERT OR IGNORE INTO latents (run_id, protein_id, rows, nnz, data) VALUES (?, ?, ?, ?, ?)'
  )
  const write = target.db.transaction((batch: { accession: string; rows: number; nnz: number; data: Buffer }[]) => {
    for (const r of batch) {
      const p = idOf.get(r.accession) as { id: number; length: number } | undefined
      if (!p)
        throw new Error(
          `${shard.path}: latents of "${r.accession}", whose protein is not in the store (internal: proteins are merged first)`
        )
      if (p.length !== r.rows)
        throw new Error(
          `${shard.path}: latents of "${r.accession}" have ${r.rows} rows but the protein has ${p.length} residues`
        )
      const changed = insert.run(targetRun, p.id, r.rows, r.nnz, r.data).changes > 0
      if (changed) {
        result.latentsAdded++
        result.residuesAdded += r.rows
        result.bytesAdded += r.data.length
      } else result.latentsExisting++
    }
    target.db.prepare('UPDATE runs SET updated_at = ? WHERE id = ?').run(new Date().toISOString(), targetRun)
  })
  let batch: { accession: string; rows: number; nnz: number; data: Buffer }[] = []
  let bytes = 0
  const limit = Math.max(1, opts.batchRows ?? 256)
  const flush = (): void => {
    write(batch)
    progress.latentsDone += batch.length
    batch = []
    bytes = 0
    opts.onProgress?.({ ...progress })
  }
  for (const r of rows) {
    batch.push(r)
    bytes += r.data.length
    progress.bytesRead += r.data.length
    result.bytesRead += r.data.length
    if (batch.length >= limit || bytes >= BATCH_BYTES) {
      flush()
      cancelled(opts.signal)
    }
  }
  flush()
}

/** Merges the shard stores into `target` (see the module comment). */
export async function mergeStores(opts: MergeOptions): Promise<MergeResult> {
  const started = performance.now()
  const { target } = opts
  if (opts.shards.length === 0)
    throw new Error('no shard stores given: pass the stores written by plm-sae index --shard I/N')
  const targetReal = realpathSync(target.path)
  const seen = new Set<string>()
  const paths: string[] = []
  for (const p of opts.shards) {
    let real: string
    try {
      real = realpathSync(p)
    } catch {
      throw new Error(`${p}: no such shard store`)
    }
    if (real === targetReal) throw new Error(`${p}: is the target store itself; merge into another file (--db)`)
    if (seen.has(real)) continue // the same file twice (e.g. a glob and a name): once is enough
    seen.add(real)
    paths.push(p)
  }
  for (const r of target.runs()) {
    if (typeof r.settings.shard === 'string') {
      throw new Error(
        `${target.path}: this store is itself shard ${r.settings.shard} (run ${r.id}); merge into a new store, e.g. --db project.sqlite`
      )
    }
  }
  const shards: ShardInfo[] = []
  const result: MergeResult = {
    shards: 0,
    proteinsAdded: 0,
    proteinsExisting: 0,
    latentsAdded: 0,
    latentsExisting: 0,
    residuesAdded: 0,
    bytesRead: 0,
    bytesAdded: 0,
    runs: [],
    seconds: 0
  }
  try {
    for (const p of paths) shards.push(openShard(p))
    shards.sort((a, b) => a.shard.index - b.shard.index)
    checkShards(shards)
    result.shards = shards.length
    const progress: MergeProgress = {
      phase: 'checking',
      proteinsDone: 0,
      proteinsTotal: shards.reduce((n, s) => n + s.proteins, 0),
      latentsDone: 0,
      latentsTotal: shards.reduce((n, s) => n + s.runs.reduce((m, r) => m + r.latents, 0), 0),
      bytesRead: 0
    }
    opts.onProgress?.({ ...progress })
    checkProteins(shards, target, opts, progress)
    cancelled(opts.signal)

    progress.phase = 'proteins'
    progress.shard = undefined
    opts.onProgress?.({ ...progress })
    mergeProteins(shards, target, opts, progress, result)

    progress.phase = 'latents'
    opts.onProgress?.({ ...progress })
    const targetRuns = new Map<string, number>()
    for (const r of shards[0].runs) {
      const run = target.ensureRun({
        modelName: r.modelName,
        modelHash: r.modelHash,
        saeName: r.saeName,
        saeHash: r.saeHash,
        layer: r.layer,
        dSae: r.dSae,
        // what one run over the whole input records (without the partition's own keys)
        settings: {
          ...Object.fromEntries(Object.entries(r.settings).filter(([k]) => !SHARD_ONLY_SETTINGS.has(k))),
          ...(r.fit !== undefined ? { fit: r.fit } : {})
        }
      })
      targetRuns.set(runKey(r), run.id)
    }
    for (const s of shards) {
      progress.shard = s.name
      for (const r of s.runs) {
        const runId = targetRuns.get(runKey(r))!
        if (target.run(runId)?.status !== 'indexing') target.setRunStatus(runId, 'indexing')
        mergeLatents(s, r, runId, target, opts, progress, result)
      }
    }

    for (const r of shards[0].runs) {
      const runId = targetRuns.get(runKey(r))!
      let computed = false
      if (!target.statsUpToDate(runId, r.stats)) {
        progress.phase = 'statistics'
        progress.shard = undefined
        target.setRunStatus(runId, 'statistics')
        await target.computeStatistics(runId, r.stats, {
          signal: opts.signal,
          onProgress: p => {
            progress.statsFraction = p.pass === 3 ? 1 : (p.pass - 1) / 2 + p.proteins / Math.max(1, p.total) / 2
            opts.onProgress?.({ ...progress })
          }
        })
        computed = true
      }
      target.setRunStatus(runId, 'complete')
      const info = target.run(runId)!
      result.runs.push({
        runId,
        modelName: info.modelName,
        saeName: info.saeName,
        layer: info.layer,
        proteins: info.proteins,
        statisticsComputed: computed
      })
    }
    progress.phase = 'done'
    opts.onProgress?.({ ...progress })
  } finally {
    for (const s of shards) s.db.close()
  }
  result.seconds = (performance.now() - started) / 1000
  return result
}
