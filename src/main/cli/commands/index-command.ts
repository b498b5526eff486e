/**
 * `plm-sae index`: runs a model + SAE over a FASTA or UniProt file and stores the latents and per-feature
 * statistics in a project store (SQLite). Resumable (run it again after an interruption), and a second run
 * on the same input does no work. Ctrl-C cancels cleanly (what finished is kept).
 */
import { Command, InvalidArgumentError } from 'commander'
import { existsSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import {
  BAD_RECORD_POLICIES,
  CONCEPT_TYPES,
  FALSE_POSITIVE_SCOPES,
  type AnnotationType,
  type BadRecordPolicy,
  type FalsePositiveScope,
  type IndexProgress,
  type IndexResult
} from '../../../shared/store-types'
import { conceptScoringOf } from '../../engine/store/concepts'
import { DEFAULT_BATCHING, DEFAULT_WINDOW } from '../../engine/esm/esm2-model'
import { IndexJob } from '../../engine/jobs/index-job'
import { formatShard, parseShard, type ShardSpec } from '../../engine/io/shard'
import { DEFAULT_MAX_RESIDUES } from '../../engine/io/protein-input'
import { describeProvider } from '../../engine/runtime/execution-provider'
import { checkFitOnFile, FIT_SAMPLE_PROTEINS } from '../../engine/sae/sae-fit'
import { openLatentSource } from '../../engine/sae/open-latent-source'
import { LatentStore } from '../../engine/store/latent-store'
import { ProteinStructures } from '../../engine/store/protein-structures'
import {
  addRuntimeOptions,
  choiceOption,
  addSaeOptions,
  helpExample,
  nonNegativeInt,
  modelSourceFrom,
  positiveInt,
  saeLoadOptions,
  type RuntimeCliOptions
} from '../options'
import { Reporter } from '../reporter'

export interface IndexOptions extends RuntimeCliOptions {
  model: string
  sae: string
  saeLayer?: number
  saeFile?: string
  saeK?: number
  fitSample: number
  input: string
  db: string
  topK: number
  falsePositives: FalsePositiveScope
  splitConcepts?: AnnotationType[]
  minConceptInstances: number
  structures?: string
  onBadRecord: BadRecordPolicy
  batchProteins: number
  window: number
  batchTokens?: number
  json?: boolean
  quiet?: boolean
  shard?: ShardSpec
  maxResidues?: number
}

/** Exit status of `plm-sae index` when the run completed but its results look wrong (warnings printed). */
export const INDEX_WARNINGS_EXIT_CODE = 3

export function indexCommand(): Command {
  const cmd = new Command('index')
    .description(
      'Index proteins: run the model + SAE over a FASTA or UniProt file and store latents and feature statistics in a project store'
    )
    .requiredOption('--model <dir>', 'an ESM2 checkpoint folder (Hugging Face) or a fair-esm .pt file')
    .requiredOption(
      '--input <file>',
      'proteins: FASTA or UniProt flat file (.dat), plain or gzipped; the format is detected from the content'
    )
    .requiredOption(
      '--db <file.sqlite>',
      'the project store (created when missing; reused to resume or to add another SAE)'
    )
    .option(
      '--fit-sample <n>',
      "check the SAE's fit at its layer on the first n proteins before indexing, stored with the run (0: skip)",
      nonNegativeInt('--fit-sample'),
      FIT_SAMPLE_PROTEINS
    )
    .option('--top-k <n>', 'proteins kept per feature by max activation', positiveInt('--top-k'), 20)
    .addOption(
      choiceOption(
        '--false-positives <scope>',
        "concept association counts false positives on 'annotated' proteins only, or on 'all' indexed proteins (InterPLM's way)",
        FALSE_POSITIVE_SCOPES,
        'annotated'
      )
    )
    .option(
      '--split-concepts <types>',
      'concept types also scored per note / ligand, comma-separated (e.g. metal,binding_site,domain: "Zn(2+)" apart from "Mg(2+)")',
      conceptTypeList
    )
    .option(
      '--min-concept-instances <n>',
      'concepts (types and notes) with fewer annotation instances are not scored',
      positiveInt('--min-concept-instances'),
      1
    )
    .option(
      '--structures <folder>',
      "PDB / mmCIF files of the input's proteins (matched by their UniProt cross-references): the label cards say whether firing residues cluster in 3D"
    )
    .addOption(
      choiceOption(
        '--on-bad-record <policy>',
        'what to do with a bad record: skip it (reported) or stop',
        BAD_RECORD_POLICIES,
        'stop'
      )
    )
    .option(
      '--batch-proteins <n>',
      'proteins per committed batch (an interruption loses at most one batch)',
      positiveInt('--batch-proteins'),
      64
    )
    .option(
      '--window <n>',
      'longest sequence run in one piece; longer ones are windowed and stitched',
      positiveInt('--window'),
      DEFAULT_WINDOW
    )
    .option(
      '--batch-tokens <n>',
      "upper bound on batch size × padded length per run (default: the SAE extractor's memory-safe choice)",
      positiveInt('--batch-tokens')
    )
    .option(
      '--shard <I/N>',
      'index only shard I of N of the input (by a stable hash of the accession), into its own store; combine the shard stores with plm-sae merge',
      (v: string) => {
        try {
          return parseShard(v)
        } catch (e) {
          throw new InvalidArgumentError((e as Error).message)
        }
      }
    )
    .option(
      '--max-residues <n>',
      `longest sequence accepted; longer ones are bad records (default ${DEFAULT_MAX_RESIDUES}, or $PLM_SAE_MAX_RESIDUES)`,
      positiveInt('--max-residues')
    )
    .option('--json', 'print the result as JSON on stdout')
    .option('-q, --quiet', 'print nothing but errors')
  addSaeOptions(cmd, true)
  helpExample(
    cmd,
    'plm-sae index --model models/esm2_t6_8M_UR50D --sae saes/esm2-8m-layer4 --input uniprot_sprot.dat.gz --db sprot.sqlite'
  )
  addRuntimeOptions(cmd)
  return cmd.action(async (opts: IndexOptions) => {
    const r = await runIndex(opts)
    if (r.cancelled) process.exitCode = 130
    else if (r.warnings) process.exitCode = INDEX_WARNINGS_EXIT_CODE
  })
}

function conceptTypeList(value: string): AnnotationType[] {
  const types = value
    .split(',')
    .map(t => t.trim())
    .filter(t => t.length > 0)
  for (const t of types) {
    if (!CONCEPT_TYPES.includes(t as AnnotationType))
      throw new InvalidArgumentError(`"${t}" is not a concept type; use some of ${CONCEPT_TYPES.join(', ')}`)
  }
  return types as AnnotationType[]
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
  const structures = opts.structures ? ProteinStructures.fromFolder(opts.structures) : undefined
  const abort = new AbortController()
  const onSigint = (): void => {
    log.line('cancelling (what is finished is kept; run the same command again to resume) ...')
    abort.abort()
  }
  const { model, sae, extractor, close } = await openLatentSource({
    ...modelSourceFrom(opts, log),
    saeDir: opts.sae,
    sae: saeLoadOptions(opts),
    onSaeLoaded: loaded => {
      for (const note of loaded.notes ?? []) log.line(`SAE ${loaded.name}: ${note}`)
    },
    extractor: {
      layer: opts.saeLayer,
      ...(opts.batchTokens ? { batching: { ...DEFAULT_BATCHING, maxBatchTokens: opts.batchTokens } } : {})
    }
  })
  const imported = model.imported
  let store: LatentStore | undefined
  process.on('SIGINT', onSigint)
  try {
    const fit =
      opts.fitSample > 0
        ? await checkFitOnFile(model, sae, extractor.layer, opts.input, opts.fitSample, abort.signal)
        : undefined
    if (fit) {
      log.line(
        `SAE fit at layer ${fit.layer} on ${fit.proteins} proteins: FVU ${fit.fvu.toFixed(3)}, cosine ${fit.cosine.toFixed(3)}, L0 ${fit.l0.toFixed(1)}, ` +
          `${fit.recoveredVsZero.toFixed(1)}% of the masked-LM loss recovered (plm-sae check-sae --layers all compares layers)`
      )
      for (const w of fit.warnings) log.line(`warning: ${w}`)
    }
    store = LatentStore.open(opts.db)
    if (structures)
      log.line(`${structures.size} structures of ${structures.accessions} proteins for the label cards' 3D clustering`)
    log.line(
      `indexing ${opts.shard ? `shard ${formatShard(opts.shard)} of ` : ''}${opts.input} with ${imported.name} + ${sae.name} (layer ${extractor.layer}, ${sae.dSae} latents) into ${opts.db}`
    )
    const job = new IndexJob({
      store,
      input: opts.input,
      source: extractor,
      model: { name: imported.name, hash: imported.hash, dir: resolve(opts.model) },
      sae: { name: sae.name, hash: sae.hash, dir: resolve(opts.sae) },
      fit,
      topK: opts.topK,
      statistics: {
        concepts: conceptScoringOf({
          falsePositives: opts.falsePositives,
          splitTypes: opts.splitConcepts ?? [],
          minInstances: opts.minConceptInstances
        })
      },
      structures,
      onBadRecord: opts.onBadRecord,
      onBadRecordReport: b =>
        log.line(`skipped bad record: ${b.file}:${b.line}${b.id ? ` (${b.id})` : ''}: ${b.message}`),
      batchProteins: opts.batchProteins,
      shard: opts.shard,
      maxResidues: opts.maxResidues,
      signal: abort.signal,
      onProgress: (p: IndexProgress) => {
        if (p.phase === 'statistics')
          log.progress('feature statistics (%)', Math.round((p.statsFraction ?? 0) * 100), 100)
        else if (p.phase === 'latents') {
          log.progress(
            `latents, ${Math.round(p.residuesPerSecond)} residues/s, ETA ${formatSeconds(p.etaSeconds)}; proteins`,
            p.proteinsDone,
            p.proteinsTotal
          )
        }
      }
    })
    const result = await job.run()
    log.done()
    const provider = extractor.provider ?? model.provider
    if (provider) log.line(`ran on ${describeProvider(provider)}`)
    const size = store.latentBytes(result.runId)
    log.line(
      `${result.cancelled ? 'cancelled' : result.warnings ? `done with ${result.warnings.length} warning(s)` : 'done'}: run ${result.runId}; ${result.proteinsIndexed} proteins computed (${result.residuesIndexed} residues, ` +
        `${Math.round(result.residuesPerSecond)} residues/s), ${result.skippedExisting} already stored, ${result.badRecords.length} bad records skipped; ` +
        `store holds ${size.proteins} proteins, ${size.residues} residues, ${(size.residues > 0 ? size.bytes / size.residues : 0).toFixed(1)} bytes of latents per residue`
    )
    // Warnings are printed even with --quiet: the run is complete, but its results look wrong.
    for (const w of result.warnings ?? []) process.stderr.write(`plm-sae: warning: ${w}\n`)
    if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`)
    return result
  } finally {
    process.off('SIGINT', onSigint)
    store?.close()
    await close()
  }
}
