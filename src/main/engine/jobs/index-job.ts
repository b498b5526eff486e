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
import type { BadRecordPolicy, BadRecordReport, IndexProgress, IndexResult, RunInfo } from '../../../shared/store-types'
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
      return await new IndexAttempt(this.opts).run()
    } finally {
      lock.release()
    }
  }
}

/**
 * One attempt of an index job, under the store's writer lock: its state (progress, counters, the batch not yet
 * committed) and its steps, in order: prepare the input, open (or resume) the run, embed the proteins in
 * committed batches, compute the statistics (concept association included), check the run's sanity, finish.
 */
class IndexAttempt {
  private readonly store: LatentStore
  private readonly started = performance.now()
  private readonly policy: BadRecordPolicy
  private readonly batchProteins: number
  private readonly statistics: Partial<StatisticsSettings>
  /** The run as it was before this attempt (a failed or cancelled attempt that stored nothing restores it). */
  private before: RunInfo | undefined
  private runId = 0
  private readonly badRecords: BadRecordReport[] = []
  private readonly progress: IndexProgress = {
    phase: 'reading',
    runId: 0,
    proteinsDone: 0,
    proteinsTotal: 0,
    residuesDone: 0,
    residuesTotal: 0,
    residuesPerSecond: 0,
    etaSeconds: null,
    skippedExisting: 0,
    badRecords: 0
  }
  private totalsKnown = false
  private computedResidues = 0
  /** Residues whose latents arrived but are not committed yet, and the number of commits so far. */
  private pendingResidues = 0
  private commits = 0
  private lastReport = 0
  /** Proteins with latents in the run (stored before, or committed by this attempt). */
  private existing = new Set<number>()
  private proteinsAdded = 0
  private proteinsIndexed = 0
  /** Lengths of the proteins sent to the source whose latents are not committed yet. */
  private readonly lengths = new Map<number, number>()
  private pending: { proteinId: number; latents: SparseLatents }[] = []
  private pendingEntries = 0

  constructor(private readonly o: IndexJobOptions) {
    this.store = o.store
    this.policy = o.onBadRecord ?? 'stop'
    this.batchProteins = Math.max(1, o.batchProteins ?? 64)
    this.statistics = { ...o.statistics, topK: o.topK ?? DEFAULT_STATISTICS.topK }
  }

  async run(): Promise<IndexResult> {
    const counted = await this.prepareInput()
    this.openRun(counted)
    let cancelled = !(await this.embedBatches())
    if (!cancelled) cancelled = !(await this.computeStatistics())
    let warnings: string[] | undefined
    if (cancelled) this.endUnchanged('cancelled')
    else warnings = this.checkSanity()
    return this.finish(cancelled, warnings)
  }

  /**
   * The input is read once before the store is touched: an unreadable or empty file changes nothing. A shard
   * of a non-empty input may itself be empty: its run is still complete, so that merge finds every shard.
   */
  private async prepareInput(): Promise<{ proteins: number; residues: number } | undefined> {
    const o = this.o
    checkShardOfStore(this.store, o.shard)
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
    return counted
  }

  /** The run of this model + SAE + layer (created, or resumed with this attempt's settings), set indexing. */
  private openRun(counted: { proteins: number; residues: number } | undefined): void {
    const o = this.o
    const store = this.store
    this.before = store.findRun({ modelHash: o.model.hash, saeHash: o.sae.hash, layer: o.source.layer })
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
        topK: this.statistics.topK,
        concepts: this.statistics.concepts ?? DEFAULT_STATISTICS.concepts,
        ...(o.model.dir ? { modelDir: o.model.dir } : {}),
        ...(o.sae.dir ? { saeDir: o.sae.dir } : {}),
        ...(o.fit !== undefined ? { fit: o.fit } : {}),
        // a shard also records the partition and the input's size, so that merge can check that all shards cut the same file
        ...(o.shard ? { shard: formatShard(o.shard), shardHash: SHARD_HASH, inputBytes: statSync(o.input).size } : {})
      }
    })
    this.runId = run.id
    this.progress.runId = run.id
    if (counted) {
      this.progress.proteinsTotal = counted.proteins
      this.progress.residuesTotal = counted.residues
      this.totalsKnown = true
    }
    store.setRunStatus(this.runId, 'indexing')
    this.existing = store.proteinsWithLatents(this.runId)
  }

  /** A failed or cancelled attempt that stored nothing new leaves a complete run exactly as it was. */
  private endUnchanged(status: 'failed' | 'cancelled'): void {
    const before = this.before
    if (before?.status === 'complete' && this.proteinsIndexed === 0 && this.store.statsUpToDate(this.runId))
      this.store.restoreRun(before)
    else this.store.setRunStatus(this.runId, status)
  }

  private report(force = false): void {
    const progress = this.progress
    const t = performance.now()
    if (!force && t - this.lastReport < 200) return
    this.lastReport = t
    const seconds = (t - this.started) / 1000
    progress.residuesPerSecond = seconds > 0 ? this.computedResidues / seconds : 0
    progress.etaSeconds =
      this.totalsKnown && progress.residuesPerSecond > 0 && progress.phase === 'latents'
        ? Math.max(
            0,
            (progress.residuesTotal - progress.residuesDone - this.pendingResidues) / progress.residuesPerSecond
          )
        : null
    this.o.onProgress?.({ ...progress })
  }

  private bad(r: BadRecordReport): void {
    this.badRecords.push(r)
    this.progress.badRecords++
    this.o.onBadRecordReport?.(r)
  }

  /** Records → stored proteins → model inputs (only those without latents in this run). */
  private async *inputs(): AsyncGenerator<SequenceInput> {
    const o = this.o
    const progress = this.progress
    const seen = new Set<number>()
    let recordsRead = 0
    let buffer: ProteinRecord[] = []
    const flush = function* (this: IndexAttempt): Generator<SequenceInput> {
      if (buffer.length === 0) return
      const { ids, added, conflicts } = this.store.addProteins(buffer)
      this.proteinsAdded += added
      for (const c of conflicts) {
        if (this.policy === 'stop') throw new BadRecordError(c)
        this.bad(c)
      }
      const records = buffer
      buffer = []
      for (let i = 0; i < records.length; i++) {
        const id = ids[i]
        if (id < 0) continue
        const rec = records[i]
        if (!this.totalsKnown) {
          progress.proteinsTotal++
          progress.residuesTotal += rec.sequence.length
        }
        if (seen.has(id)) continue // the same protein twice in the input
        seen.add(id)
        if (this.existing.has(id)) {
          progress.skippedExisting++
          progress.proteinsDone++
          progress.residuesDone += rec.sequence.length
          continue
        }
        this.lengths.set(id, rec.sequence.length)
        yield { id: String(id), tokens: tokenize(rec.sequence, rec.accession) }
      }
      progress.phase = 'latents'
      this.report()
    }.bind(this)
    const shard = o.shard
    for await (const rec of readProteins(o.input, {
      policy: this.policy,
      maxResidues: o.maxResidues,
      onBadRecord: r => (recordsRead++, this.bad(r))
    })) {
      recordsRead++
      if (shard && !inShard(rec.accession, shard)) continue
      buffer.push(rec)
      if (buffer.length >= this.batchProteins) yield* flush()
    }
    yield* flush()
    if (recordsRead === 0) throw new Error(emptyInputMessage(o.input))
  }

  /** Commits the latents that arrived since the last commit (one transaction). */
  private commit(): void {
    if (this.pending.length === 0) return
    this.store.assertFilePresent()
    this.store.putLatents(this.runId, this.pending)
    for (const p of this.pending) {
      this.existing.add(p.proteinId)
      this.lengths.delete(p.proteinId)
      this.proteinsIndexed++
      this.progress.proteinsDone++
      this.progress.residuesDone += p.latents.rows
    }
    this.commits++
    this.pendingResidues = 0
    this.pending = []
    this.pendingEntries = 0
    this.report()
  }

  /** For a disk-full message: the latent bytes the rest of the input will take, at this store's bytes per residue. */
  private latentBytesStillNeeded(): number {
    let perResidue = 64
    try {
      const size = this.store.latentBytes(this.runId)
      if (size.residues > 0) perResidue = size.bytes / size.residues
    } catch {
      /* keep the guess */
    }
    const remaining = Math.max(0, this.progress.residuesTotal - this.progress.residuesDone)
    return Math.round(remaining * perResidue * 1.2) + (16 << 20)
  }

  /**
   * Sends the proteins without latents through the source and commits their latents in batches. False when
   * cancelled; a failure ends the run (unchanged where it stored nothing) and throws.
   */
  private async embedBatches(): Promise<boolean> {
    const o = this.o
    try {
      for await (const latents of o.source.extract(this.inputs(), { signal: o.signal })) {
        const proteinId = Number(latents.id)
        if (!this.lengths.has(proteinId))
          throw new Error(`internal: the latent source returned latents for unknown id "${latents.id}"`)
        this.pending.push({ proteinId, latents })
        this.pendingEntries += latents.indptr[latents.rows]
        // Rate and ETA from the first proteins, as their latents arrive; "done" counts committed proteins only.
        this.computedResidues += latents.rows
        this.pendingResidues += latents.rows
        this.report()
        // The first commits come early (4, 8, 16… proteins up to batchProteins), so a first start shows progress at once.
        if (this.pending.length >= Math.min(this.batchProteins, 4 << this.commits) || this.pendingEntries >= 4_000_000)
          this.commit()
        if (o.signal?.aborted) break
      }
      this.commit()
      this.report(true) // the last latents figure (rate, ETA) is always reported, however fast the run was
      if (o.signal?.aborted) throw new Error('cancelled')
      return true
    } catch (e) {
      // Whatever finished is kept (complete proteins only), so the next run resumes after it.
      try {
        this.commit()
      } catch {
        /* the first error is the one to report (e.g. the store file is gone) */
      }
      if (o.signal?.aborted || (e as Error).message === 'cancelled') return false
      try {
        this.endUnchanged('failed')
      } catch {
        /* e.g. the disk is full: the status stays as it was */
      }
      this.progress.phase = 'failed'
      this.report(true)
      throw (
        diskFullError(
          e,
          this.store.path,
          this.latentBytesStillNeeded(),
          'what finished is kept; run the same command again to resume'
        ) ?? e
      )
    }
  }

  /**
   * The per-feature statistics and concept association (one computation over the stored latents), unless
   * they are up to date with these settings. False when cancelled; a failure marks the run failed and throws.
   */
  private async computeStatistics(): Promise<boolean> {
    const o = this.o
    const store = this.store
    const settings = { ...DEFAULT_STATISTICS, ...this.statistics }
    if (store.statsUpToDate(this.runId, settings)) return true
    this.progress.phase = 'statistics'
    store.setRunStatus(this.runId, 'statistics')
    this.report(true)
    try {
      await store.computeStatistics(this.runId, settings, {
        signal: o.signal,
        structures: o.structures,
        onProgress: p => {
          this.progress.statsFraction = p.pass === 3 ? 1 : (p.pass - 1) / 2 + p.proteins / Math.max(1, p.total) / 2
          this.report()
        }
      })
      return true
    } catch (e) {
      if (o.signal?.aborted || (e as Error).message === 'cancelled') return false
      try {
        store.setRunStatus(this.runId, 'failed')
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

  /** The run's sanity warnings (run-sanity.ts), stored with it; the run is complete (with warnings, if any). */
  private checkSanity(): string[] {
    const o = this.o
    this.store.assertFilePresent()
    const warnings = runWarnings(this.store.runSparsity(this.runId), o.source.dSae, o.source.maxActivePerResidue)
    this.store.setRunWarnings(this.runId, warnings)
    this.store.setRunStatus(this.runId, 'complete')
    return warnings
  }

  /** The last progress report and the job's result. */
  private finish(cancelled: boolean, warnings: string[] | undefined): IndexResult {
    this.progress.phase = cancelled ? 'cancelled' : 'done'
    this.report(true)
    const seconds = (performance.now() - this.started) / 1000
    return {
      runId: this.runId,
      proteinsAdded: this.proteinsAdded,
      proteinsIndexed: this.proteinsIndexed,
      residuesIndexed: this.computedResidues,
      skippedExisting: this.progress.skippedExisting,
      badRecords: this.badRecords,
      seconds,
      residuesPerSecond: seconds > 0 ? this.computedResidues / seconds : 0,
      cancelled,
      ...(warnings && warnings.length > 0 ? { warnings } : {})
    }
  }
}
