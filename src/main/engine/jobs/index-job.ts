/**
 * `IndexJob`: input file (FASTA / UniProt, plain or gzipped) → proteins into the store → SAE latents from a
 * `LatentSource` → latents into the store → per-feature statistics.
 *
 * - Streaming: records are read, stored and handed to the source in small batches; the source reads ahead a
 *   bounded number of tokens; finished latents are committed every `batchProteins` proteins, so memory stays
 *   bounded whatever the input size.
 * - Resumable: every commit is one transaction, and a protein that already has latents in the run is never
 *   sent to the model again (nor stored twice: (run, protein) is the key). After a kill -9 the job simply
 *   runs again; at most one uncommitted batch is recomputed. Statistics are recomputed from the stored
 *   latents at the end and replaced atomically, so they never count anything twice.
 * - A second run on the same input finds every protein stored and the statistics up to date: no work.
 * - Re-indexing with another SAE (or model / layer) makes a new run over the same stored proteins.
 * - Sharded (`shard`): only the records of that shard of the input (io/shard.ts) are stored and indexed; the
 *   run records the shard ("I/N") and the partition, and a store holds one shard only (checked), so that
 *   `plm-sae merge` (store/store-merge.ts) can combine the shards' stores into the whole input's store.
 * - One writer per store: the job holds the store's writer lock (store-lock.ts) while it runs; a second
 *   indexer on the same store stops at once with a message naming the holder.
 * - Nothing wrong is marked complete: an empty input is an error; an attempt that fails (or is cancelled)
 *   before it stored anything new leaves a complete run as it was (status and recorded input); a run whose
 *   latents look broken (run-sanity.ts) is complete with warnings; a store file deleted or replaced while
 *   the job runs stops the job.
 */
import { statSync } from 'node:fs'
import type { BadRecordPolicy, BadRecordReport, IndexProgress, IndexResult } from '../../../shared/store-types'
import { RecordCounter } from '../../../shared/sequence-text'
import { tokenize } from '../esm/alphabet'
import type { SequenceInput } from '../esm/esm2-model'
import { BadRecordError, lineOptions, readProteinInput, readProteins, type ProteinRecord } from '../io/protein-input'
import { formatShard, inShard, SHARD_HASH, type ShardSpec } from '../io/shard'
import { readLines } from '../io/text-lines'
import { diskFullError } from '../fs/files'
import type { LatentSource } from '../sae/latent-source'
import type { SparseLatents } from '../sae/sparse-latents'
import { DEFAULT_STATISTICS, type StatisticsSettings } from '../store/feature-statistics'
import type { ProteinStructures } from '../store/protein-structures'
import type { LatentStore } from '../store/latent-store'
import { acquireWriterLock } from '../store/store-lock'
import { runWarnings } from './run-sanity'

export interface IndexJobOptions {
  store: LatentStore
  input: string
  source: LatentSource
  /** `dir`: where the files are, recorded with the run (so `plm-sae annotate` finds them again). */
  model: { name: string; hash: string; dir?: string }
  sae: { name: string; hash: string; dir?: string }
  /** The SAE's fit on a sample of the input (engine/sae/sae-fit.ts), stored in the run's settings as `fit`. */
  fit?: unknown
  /** Proteins kept per feature by max activation (default 20). */
  topK?: number
  statistics?: Partial<Omit<StatisticsSettings, 'topK'>>
  /** The project's structures, for the label cards' 3D clustering. */
  structures?: ProteinStructures
  onBadRecord?: BadRecordPolicy
  /** Called for every bad record (skipped ones included). */
  onBadRecordReport?: (r: BadRecordReport) => void
  /** Proteins per committed batch (default 64). */
  batchProteins?: number
  signal?: AbortSignal
  onProgress?: (p: IndexProgress) => void
  /** Count the input's proteins and residues first, for the ETA (default true). */
  countFirst?: boolean
  /** Index only this shard of the input (by a stable hash of the accession; see io/shard.ts). */
  shard?: ShardSpec
  /** What the store's writer lock names as its holder (default: this process's command line). */
  lockCommand?: string
  /** Longest sequence accepted (residues; default `PLM_SAE_MAX_RESIDUES` or 100,000): longer ones are bad records. */
  maxResidues?: number
}

/** The message of an input without a single protein record. */
export function emptyInputMessage(path: string): string {
  return `${path}: no protein records found (the file is empty, or holds only blank lines or comments); nothing was indexed and the store was not changed`
}

/** The proteins and residues of one shard of the input, and the input's proteins (parses the records, for their accessions). */
export async function countShard(
  path: string,
  shard: ShardSpec,
  limits: { maxResidues?: number } = {}
): Promise<{ proteins: number; residues: number; inputProteins: number }> {
  let proteins = 0
  let residues = 0
  let inputProteins = 0
  for await (const item of readProteinInput(path, undefined, limits)) {
    if (item.kind !== 'protein') continue
    inputProteins++
    if (!inShard(item.record.accession, shard)) continue
    proteins++
    residues += item.record.sequence.length
  }
  return { proteins, residues, inputProteins }
}

/** A store holds one shard of one input (or no shard): refuses to mix them, naming what the store holds. */
function checkShardOfStore(store: LatentStore, shard: ShardSpec | undefined): void {
  const wanted = shard ? formatShard(shard) : undefined
  for (const r of store.runs()) {
    const held = typeof r.settings.shard === 'string' ? r.settings.shard : undefined
    if (held === wanted) continue
    if (held === undefined) {
      throw new Error(
        `${store.path}: this store holds an unsharded index (run ${r.id}); index shard ${wanted} into its own store (one store per shard)`
      )
    }
    throw new Error(
      `${store.path}: this store holds shard ${held} (run ${r.id}), not ${wanted ?? 'the whole input'}; ` +
        (wanted
          ? 'index every shard into its own store'
          : 'combine shard stores with plm-sae merge, or index into a new store')
    )
  }
}

/** Fast count of records and residues (for progress): `RecordCounter` over the lines, no parsing beyond line starts. */
export async function countInput(
  path: string,
  limits: { maxResidues?: number } = {}
): Promise<{ proteins: number; residues: number }> {
  const counter = new RecordCounter()
  for await (const [, line] of readLines(path, lineOptions(limits))) counter.add(line)
  return { proteins: counter.records, residues: counter.residues }
}

export class IndexJob {
  private readonly opts: IndexJobOptions

  constructor(opts: IndexJobOptions) {
    this.opts = opts
  }

  async run(): Promise<IndexResult> {
    const lock = acquireWriterLock(this.opts.store, this.opts.lockCommand)
    try {
      return await this.runLocked()
    } finally {
      lock.release()
    }
  }

  private async runLocked(): Promise<IndexResult> {
    const o = this.opts
    const store = o.store
    const started = performance.now()
    const policy = o.onBadRecord ?? 'stop'
    const batchProteins = Math.max(1, o.batchProteins ?? 64)
    const statistics: Partial<StatisticsSettings> = { ...o.statistics, topK: o.topK ?? DEFAULT_STATISTICS.topK }
    checkShardOfStore(store, o.shard)
    // The input is read once before the store is touched: an unreadable or empty file changes nothing. A shard
    // of a non-empty input may itself be empty: its run is still complete, so that merge finds every shard.
    const limits = { maxResidues: o.maxResidues }
    const sharded = o.shard && o.shard.count > 1 ? o.shard : undefined
    const counted =
      (o.countFirst ?? true)
        ? sharded
          ? await countShard(o.input, sharded, limits)
          : await countInput(o.input, limits)
        : undefined
    if (counted && ('inputProteins' in counted ? counted.inputProteins : counted.proteins) === 0)
      throw new Error(emptyInputMessage(o.input))
    const before = store.findRun({ modelHash: o.model.hash, saeHash: o.sae.hash, layer: o.source.layer })
    store.assertFilePresent()
    const run = store.ensureRun({
      modelName: o.model.name,
      modelHash: o.model.hash,
      saeName: o.sae.name,
      saeHash: o.sae.hash,
      layer: o.source.layer,
      dSae: o.source.dSae,
      settings: {
        input: o.input,
        topK: statistics.topK,
        concepts: statistics.concepts ?? DEFAULT_STATISTICS.concepts,
        ...(o.model.dir ? { modelDir: o.model.dir } : {}),
        ...(o.sae.dir ? { saeDir: o.sae.dir } : {}),
        ...(o.fit !== undefined ? { fit: o.fit } : {}),
        // a shard also records the partition and the input's size, so that merge can check that all shards cut the same file
        ...(o.shard ? { shard: formatShard(o.shard), shardHash: SHARD_HASH, inputBytes: statSync(o.input).size } : {})
      }
    })
    const runId = run.id
    const badRecords: BadRecordReport[] = []
    const progress: IndexProgress = {
      phase: 'reading',
      runId,
      proteinsDone: 0,
      proteinsTotal: 0,
      residuesDone: 0,
      residuesTotal: 0,
      residuesPerSecond: 0,
      etaSeconds: null,
      skippedExisting: 0,
      badRecords: 0
    }
    let totalsKnown = false
    if (counted) {
      progress.proteinsTotal = counted.proteins
      progress.residuesTotal = counted.residues
      totalsKnown = true
    }
    // A failed or cancelled attempt that stored nothing new leaves a complete run exactly as it was.
    const endUnchanged = (status: 'failed' | 'cancelled'): void => {
      if (before?.status === 'complete' && proteinsIndexed === 0 && store.statsUpToDate(runId)) store.restoreRun(before)
      else store.setRunStatus(runId, status)
    }
    let computedResidues = 0
    // Residues whose latents arrived but are not committed yet, and the number of commits so far.
    let pendingResidues = 0
    let commits = 0
    let lastReport = 0
    const report = (force = false): void => {
      const t = performance.now()
      if (!force && t - lastReport < 200) return
      lastReport = t
      const seconds = (t - started) / 1000
      progress.residuesPerSecond = seconds > 0 ? computedResidues / seconds : 0
      progress.etaSeconds =
        totalsKnown && progress.residuesPerSecond > 0 && progress.phase === 'latents'
          ? Math.max(0, (progress.residuesTotal - progress.residuesDone - pendingResidues) / progress.residuesPerSecond)
          : null
      o.onProgress?.({ ...progress })
    }
    const bad = (r: BadRecordReport): void => {
      badRecords.push(r)
      progress.badRecords++
      o.onBadRecordReport?.(r)
    }

    store.setRunStatus(runId, 'indexing')
    const existing = store.proteinsWithLatents(runId)
    let proteinsAdded = 0
    let proteinsIndexed = 0
    let recordsRead = 0
    const lengths = new Map<number, number>()
    const seen = new Set<number>()

    // Records → stored proteins → model inputs (only those without latents in this run).
    const inputs = async function* (): AsyncGenerator<SequenceInput> {
      let buffer: ProteinRecord[] = []
      const flush = function* (): Generator<SequenceInput> {
        if (buffer.length === 0) return
        const { ids, added, conflicts } = store.addProteins(buffer)
        proteinsAdded += added
        for (const c of conflicts) {
          if (policy === 'stop') throw new BadRecordError(c)
          bad(c)
        }
        const records = buffer
        buffer = []
        for (let i = 0; i < records.length; i++) {
          const id = ids[i]
          if (id < 0) continue
          const rec = records[i]
          if (!totalsKnown) {
            progress.proteinsTotal++
            progress.residuesTotal += rec.sequence.length
          }
          if (seen.has(id)) continue // the same protein twice in the input
          seen.add(id)
          if (existing.has(id)) {
            progress.skippedExisting++
            progress.proteinsDone++
            progress.residuesDone += rec.sequence.length
            continue
          }
          lengths.set(id, rec.sequence.length)
          yield { id: String(id), tokens: tokenize(rec.sequence, rec.accession) }
        }
        progress.phase = 'latents'
        report()
      }
      const shard = o.shard
      for await (const rec of readProteins(o.input, {
        policy,
        maxResidues: o.maxResidues,
        onBadRecord: r => (recordsRead++, bad(r))
      })) {
        recordsRead++
        if (shard && !inShard(rec.accession, shard)) continue
        buffer.push(rec)
        if (buffer.length >= batchProteins) yield* flush()
      }
      yield* flush()
      if (recordsRead === 0) throw new Error(emptyInputMessage(o.input))
    }

    let pending: { proteinId: number; latents: SparseLatents }[] = []
    let pendingEntries = 0
    const commit = (): void => {
      if (pending.length === 0) return
      store.assertFilePresent()
      store.putLatents(runId, pending)
      for (const p of pending) {
        existing.add(p.proteinId)
        lengths.delete(p.proteinId)
        proteinsIndexed++
        progress.proteinsDone++
        progress.residuesDone += p.latents.rows
      }
      commits++
      pendingResidues = 0
      pending = []
      pendingEntries = 0
      report()
    }

    // For a disk-full message: the latent bytes the rest of the input will take, at this store's bytes per residue.
    const latentBytesStillNeeded = (): number => {
      let perResidue = 64
      try {
        const size = store.latentBytes(runId)
        if (size.residues > 0) perResidue = size.bytes / size.residues
      } catch {
        /* keep the guess */
      }
      const remaining = Math.max(0, progress.residuesTotal - progress.residuesDone)
      return Math.round(remaining * perResidue * 1.2) + (16 << 20)
    }

    let cancelled = false
    try {
      for await (const latents of o.source.extract(inputs(), { signal: o.signal })) {
        const proteinId = Number(latents.id)
        if (!lengths.has(proteinId))
          throw new Error(`internal: the latent source returned latents for unknown id "${latents.id}"`)
        pending.push({ proteinId, latents })
        pendingEntries += latents.indptr[latents.rows]
        // Rate and ETA from the first proteins, as their latents arrive; "done" counts committed proteins only.
        computedResidues += latents.rows
        pendingResidues += latents.rows
        report()
        // The first commits come early (4, 8, 16… proteins up to batchProteins), so a first start shows progress at once.
        if (pending.length >= Math.min(batchProteins, 4 << commits) || pendingEntries >= 4_000_000) commit()
        if (o.signal?.aborted) break
      }
      commit()
      report(true) // the last latents figure (rate, ETA) is always reported, however fast the run was
      if (o.signal?.aborted) throw new Error('cancelled')
    } catch (e) {
      // Whatever finished is kept (complete proteins only), so the next run resumes after it.
      try {
        commit()
      } catch {
        /* the first error is the one to report (e.g. the store file is gone) */
      }
      if (o.signal?.aborted || (e as Error).message === 'cancelled') {
        cancelled = true
      } else {
        try {
          endUnchanged('failed')
        } catch {
          /* e.g. the disk is full: the status stays as it was */
        }
        progress.phase = 'failed'
        report(true)
        throw (
          diskFullError(
            e,
            store.path,
            latentBytesStillNeeded(),
            'what finished is kept; run the same command again to resume'
          ) ?? e
        )
      }
    }

    if (!cancelled) {
      const settings = { ...DEFAULT_STATISTICS, ...statistics }
      if (!store.statsUpToDate(runId, settings)) {
        progress.phase = 'statistics'
        store.setRunStatus(runId, 'statistics')
        report(true)
        try {
          await store.computeStatistics(runId, settings, {
            signal: o.signal,
            structures: o.structures,
            onProgress: p => {
              progress.statsFraction = p.pass === 3 ? 1 : (p.pass - 1) / 2 + p.proteins / Math.max(1, p.total) / 2
              report()
            }
          })
        } catch (e) {
          if (o.signal?.aborted || (e as Error).message === 'cancelled') cancelled = true
          else {
            try {
              store.setRunStatus(runId, 'failed')
            } catch {
              /* e.g. the disk is full */
            }
            // The statistics tables take roughly a few kB per feature (histograms, examples, concept tables).
            throw (
              diskFullError(
                e,
                store.path,
                o.source.dSae * 8192 + (16 << 20),
                'the latents are kept; run the same command again to compute the statistics'
              ) ?? e
            )
          }
        }
      }
    }
    let warnings: string[] | undefined
    if (cancelled) endUnchanged('cancelled')
    else {
      store.assertFilePresent()
      warnings = runWarnings(store.runSparsity(runId), o.source.dSae, o.source.maxActivePerResidue)
      store.setRunWarnings(runId, warnings)
      store.setRunStatus(runId, 'complete')
    }
    progress.phase = cancelled ? 'cancelled' : 'done'
    report(true)
    const seconds = (performance.now() - started) / 1000
    return {
      runId,
      proteinsAdded,
      proteinsIndexed,
      residuesIndexed: computedResidues,
      skippedExisting: progress.skippedExisting,
      badRecords,
      seconds,
      residuesPerSecond: seconds > 0 ? computedResidues / seconds : 0,
      cancelled,
      ...(warnings && warnings.length > 0 ? { warnings } : {})
    }
  }
}
