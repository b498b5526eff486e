/**
 * `plm-sae index`: runs a model + SAE over a FASTA or UniProt file and stores the latents and per-feature
 * statistics in a project store (SQLite). Resumable (run it again after an interruption), and a second run
 * on the same input does no work. Ctrl-C cancels cleanly (what finished is kept).
 */
import { Command, Option } from 'commander'
import { existsSync, statSync } from 'node:fs'
import type { BadRecordPolicy, IndexProgress, IndexResult } from '../../../shared/store-types'
import { modelCacheRoot } from '../../engine/app-paths'
import { importEsm2 } from '../../engine/esm/esm2-import'
import { DEFAULT_BATCHING, DEFAULT_WINDOW, Esm2Model } from '../../engine/esm/esm2-model'
import { IndexJob } from '../../engine/jobs/index-job'
import { describeProvider } from '../../engine/runtime/execution-provider'
import { LatentExtractor } from '../../engine/sae/latent-extractor'
import { loadSae } from '../../engine/sae/sae-load'
import { LatentStore } from '../../engine/store/latent-store'
import { addRuntimeOptions, nonNegativeInt, positiveInt, runtimeFrom } from '../options'
import { Reporter } from '../reporter'

export interface IndexOptions {
  model: string
  sae: string
  saeLayer?: number
  input: string
  db: string
  topK: number
  onBadRecord: BadRecordPolicy
  batchProteins: number
  window: number
  batchTokens?: number
  device: string
  deviceId: number
  threads: number
  cacheDir?: string
  json?: boolean
  quiet?: boolean
}

export function indexCommand(): Command {
  const cmd = new Command('index')
    .description('Index proteins: run the model + SAE over a FASTA or UniProt file and store latents and feature statistics in a project store')
    .requiredOption('--model <dir>', 'an ESM2 checkpoint folder (Hugging Face) or a fair-esm .pt file')
    .requiredOption('--sae <dir>', 'an SAE folder (generic sae.json, the preprint\'s config.json + weights, or InterPLM layer_N/ae_*.pt)')
    .option('--sae-layer <n>', 'the layer the SAE reads, when its files do not say', nonNegativeInt('--sae-layer'))
    .requiredOption('--input <file>', 'proteins: FASTA or UniProt flat file (.dat), plain or gzipped; the format is detected from the content')
    .requiredOption('--db <file.sqlite>', 'the project store (created when missing; reused to resume or to add another SAE)')
    .option('--top-k <n>', 'proteins kept per feature by max activation', positiveInt('--top-k'), 20)
    .addOption(new Option('--on-bad-record <policy>', 'what to do with a bad record: skip it (reported) or stop').choices(['skip', 'stop']).default('stop'))
    .option('--batch-proteins <n>', 'proteins per committed batch (an interruption loses at most one batch)', positiveInt('--batch-proteins'), 64)
    .option('--window <n>', 'longest sequence run in one piece; longer ones are windowed and stitched', positiveInt('--window'), DEFAULT_WINDOW)
    .option('--batch-tokens <n>', 'upper bound on batch size × padded length per run (default: the SAE extractor\'s memory-safe choice)', positiveInt('--batch-tokens'))
    .option('--json', 'print the result as JSON on stdout')
    .option('-q, --quiet', 'print nothing but errors')
  addRuntimeOptions(cmd)
  return cmd.action(async (opts: IndexOptions) => {
    const r = await runIndex(opts)
    if (r.cancelled) process.exitCode = 130
  })
}

function formatSeconds(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '?'
  if (s < 60) return `${Math.round(s)} s`
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`
}

export async function runIndex(opts: IndexOptions): Promise<IndexResult> {
  const log = new Reporter(opts.quiet ?? false)
  if (!existsSync(opts.input) || !statSync(opts.input).isFile()) throw new Error(`${opts.input}: no such file`)
  const imported = await importEsm2(opts.model, opts.cacheDir ?? modelCacheRoot(), {
    onProgress: (p) => log.progress(`importing model: ${p.phase}`, p.done, p.total)
  })
  log.done()
  const sae = await loadSae(opts.sae, { layer: opts.saeLayer })
  const model = await Esm2Model.open(imported, runtimeFrom(opts), opts.window)
  let extractor: LatentExtractor | undefined
  let store: LatentStore | undefined
  const abort = new AbortController()
  const onSigint = (): void => {
    log.line('cancelling (what is finished is kept; run the same command again to resume) ...')
    abort.abort()
  }
  process.on('SIGINT', onSigint)
  try {
    extractor = await LatentExtractor.open(model, sae, {
      layer: opts.saeLayer,
      ...(opts.batchTokens ? { batching: { ...DEFAULT_BATCHING, maxBatchTokens: opts.batchTokens } } : {})
    })
    store = LatentStore.open(opts.db)
    log.line(`indexing ${opts.input} with ${imported.name} + ${sae.name} (layer ${extractor.layer}, ${sae.dSae} latents) into ${opts.db}`)
    const job = new IndexJob({
      store,
      input: opts.input,
      source: extractor,
      model: { name: imported.name, hash: imported.hash },
      sae: { name: sae.name, hash: sae.hash },
      topK: opts.topK,
      onBadRecord: opts.onBadRecord,
      onBadRecordReport: (b) => log.line(`skipped bad record: ${b.file}:${b.line}${b.id ? ` (${b.id})` : ''}: ${b.message}`),
      batchProteins: opts.batchProteins,
      signal: abort.signal,
      onProgress: (p: IndexProgress) => {
        if (p.phase === 'statistics') log.progress('feature statistics (%)', Math.round((p.statsFraction ?? 0) * 100), 100)
        else if (p.phase === 'latents') {
          log.progress(`latents, ${Math.round(p.residuesPerSecond)} residues/s, ETA ${formatSeconds(p.etaSeconds)}; proteins`, p.proteinsDone, p.proteinsTotal)
        }
      }
    })
    const result = await job.run()
    log.done()
    const provider = extractor.provider ?? model.provider
    if (provider) log.line(`ran on ${describeProvider(provider)}`)
    const size = store.latentBytes(result.runId)
    log.line(
      `${result.cancelled ? 'cancelled' : 'done'}: run ${result.runId}; ${result.proteinsIndexed} proteins computed (${result.residuesIndexed} residues, ` +
        `${Math.round(result.residuesPerSecond)} residues/s), ${result.skippedExisting} already stored, ${result.badRecords.length} bad records skipped; ` +
        `store holds ${size.proteins} proteins, ${size.residues} residues, ${(size.residues > 0 ? size.bytes / size.residues : 0).toFixed(1)} bytes of latents per residue`
    )
    if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`)
    return result
  } finally {
    process.off('SIGINT', onSigint)
    store?.close()
    await extractor?.close()
    await model.close()
  }
}
