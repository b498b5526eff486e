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
 */
import type { BadRecordPolicy, BadRecordReport, IndexProgress, IndexResult } from '../../../shared/store-types'
import { tokenize } from '../esm/alphabet'
import type { SequenceInput } from '../esm/esm2-model'
import { BadRecordError, readProteins, type ProteinRecord } from '../io/protein-input'
import { readLines } from '../io/text-lines'
import type { LatentSource } from '../sae/latent-source'
import type { SparseLatents } from '../sae/sparse-latents'
import { DEFAULT_STATISTICS, type StatisticsSettings } from '../store/feature-statistics'
import type { LatentStore } from '../store/latent-store'

export interface IndexJobOptions {
  store: LatentStore
  input: string
  source: LatentSource
  model: { name: string; hash: string }
  sae: { name: string; hash: string }
  /** Proteins kept per feature by max activation (default 20). */
  topK?: number
  statistics?: Partial<Omit<StatisticsSettings, 'topK'>>
  onBadRecord?: BadRecordPolicy
  /** Called for every bad record (skipped ones included). */
  onBadRecordReport?: (r: BadRecordReport) => void
  /** Proteins per committed batch (default 64). */
  batchProteins?: number
  signal?: AbortSignal
  onProgress?: (p: IndexProgress) => void
  /** Count the input's proteins and residues first, for the ETA (default true). */
  countFirst?: boolean
}

/** Fast count of records and residues (for progress); no parsing beyond line starts. */
export async function countInput(path: string): Promise<{ proteins: number; residues: number }> {
  let proteins = 0
  let residues = 0
  let inSq = false
  let fasta: boolean | undefined
  for await (const [, line] of readLines(path)) {
    if (fasta === undefined) {
      if (!line.trim()) continue
      fasta = line.startsWith('>')
    }
    if (fasta) {
      if (line.startsWith('>')) proteins++
      else residues += line.replace(/\s+/g, '').length
    } else if (line.startsWith('//')) {
      proteins++
      inSq = false
    } else if (line.startsWith('SQ   ')) inSq = true
    else if (inSq) residues += line.replace(/\s+/g, '').length
  }
  return { proteins, residues }
}

export class IndexJob {
  private readonly opts: IndexJobOptions

  constructor(opts: IndexJobOptions) {
    this.opts = opts
  }

  async run(): Promise<IndexResult> {
    const o = this.opts
    const store = o.store
    const started = performance.now()
    const policy = o.onBadRecord ?? 'stop'
    const batchProteins = Math.max(1, o.batchProteins ?? 64)
    const statistics: Partial<StatisticsSettings> = { ...o.statistics, topK: o.topK ?? DEFAULT_STATISTICS.topK }
    const run = store.ensureRun({
      modelName: o.model.name,
      modelHash: o.model.hash,
      saeName: o.sae.name,
      saeHash: o.sae.hash,
      layer: o.source.layer,
      dSae: o.source.dSae,
      settings: { input: o.input, topK: statistics.topK }
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
    if (o.countFirst ?? true) {
      const c = await countInput(o.input)
      progress.proteinsTotal = c.proteins
      progress.residuesTotal = c.residues
      totalsKnown = true
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
      for await (const rec of readProteins(o.input, { policy, onBadRecord: bad })) {
        buffer.push(rec)
        if (buffer.length >= batchProteins) yield* flush()
      }
      yield* flush()
    }

    let pending: { proteinId: number; latents: SparseLatents }[] = []
    let pendingEntries = 0
    const commit = (): void => {
      if (pending.length === 0) return
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

    let cancelled = false
    try {
      for await (const latents of o.source.extract(inputs(), { signal: o.signal })) {
        const proteinId = Number(latents.id)
        if (!lengths.has(proteinId)) throw new Error(`internal: the latent source returned latents for unknown id "${latents.id}"`)
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
      commit()
      if (o.signal?.aborted || (e as Error).message === 'cancelled') {
        cancelled = true
      } else {
        store.setRunStatus(runId, 'failed')
        progress.phase = 'failed'
        report(true)
        throw e
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
            onProgress: (p) => {
              progress.statsFraction = p.pass === 3 ? 1 : (p.pass - 1) / 2 + p.proteins / Math.max(1, p.total) / 2
              report()
            }
          })
        } catch (e) {
          if (o.signal?.aborted || (e as Error).message === 'cancelled') cancelled = true
          else {
            store.setRunStatus(runId, 'failed')
            throw e
          }
        }
      }
    }
    store.setRunStatus(runId, cancelled ? 'cancelled' : 'complete')
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
      cancelled
    }
  }
}
