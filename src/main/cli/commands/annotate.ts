/**
 * `plm-sae annotate`: the concept report of the user's sequences (FASTA, or UniProt flat file with annotations)
 * from a project store: predicted annotation tracks per sequence, predicted against known for annotated input,
 * and for a family the features firing in most members, aligned to the first sequence (engine/jobs/concept-report.ts).
 * The model and SAE are the run's (recorded at indexing), or given with --model / --sae.
 */
import { Command } from 'commander'
import { existsSync, statSync } from 'node:fs'
import { DEFAULT_CONCEPT_F1_FLOOR } from '../../../shared/concept-floor'
import { writeFileAtomic } from '../../engine/fs/files'
import { conceptReport, readReportSequences, reportTsv } from '../../engine/jobs/concept-report'
import { openLatentSource } from '../../engine/sae/open-latent-source'
import { LatentStore } from '../../engine/store/latent-store'
import {
  addRuntimeOptions,
  finiteNumber,
  positiveInt,
  modelSourceFrom,
  helpExample,
  type RuntimeCliOptions
} from '../options'
import { Reporter } from '../reporter'

interface AnnotateOptions extends RuntimeCliOptions {
  db: string
  input: string
  out: string
  run?: number
  model?: string
  sae?: string
  floor: number
  minFraction: number
  quiet?: boolean
}

export function annotateCommand(): Command {
  const cmd = new Command('annotate')
    .description(
      "Concept report of your sequences: the project's features predict annotation tracks (and, for a family, which features fire in most members)"
    )
    .requiredOption('--db <file.sqlite>', 'the project store (indexed, with feature statistics)')
    .requiredOption(
      '--input <file>',
      'sequences: FASTA (one, or a family) or a UniProt flat file (its annotations are compared with the predictions), plain or gzipped'
    )
    .requiredOption(
      '--out <file>',
      'the report: .json (everything, per-residue support included) or .tsv (one row per predicted segment, agreement and family feature)'
    )
    .option('--run <id>', 'the indexing run (default: the latest complete one)', positiveInt('--run'))
    .option('--model <dir>', "the run's ESM2 checkpoint (default: the folder recorded when the run was indexed)")
    .option('--sae <dir>', "the run's SAE folder (default: the folder recorded when the run was indexed)")
    .option(
      '--floor <f1>',
      'features predict a concept whose F1 is at least this',
      finiteNumber('--floor', 0, 1),
      DEFAULT_CONCEPT_F1_FLOOR
    )
    .option(
      '--min-fraction <x>',
      'family: features firing in at least this fraction of the sequences',
      finiteNumber('--min-fraction', 0, 1),
      0.5
    )
    .option('-q, --quiet', 'print nothing but errors')
  addRuntimeOptions(cmd)
  helpExample(cmd, 'plm-sae annotate --db sprot.sqlite --input family.fasta --out report.tsv')
  return cmd.action(async (opts: AnnotateOptions) => runAnnotate(opts))
}

export async function runAnnotate(opts: AnnotateOptions): Promise<void> {
  const log = new Reporter(opts.quiet ?? false)
  const format = opts.out.toLowerCase().endsWith('.json')
    ? 'json'
    : opts.out.toLowerCase().endsWith('.tsv')
      ? 'tsv'
      : undefined
  if (!format) throw new Error(`--out ${opts.out}: the report is written as .json or .tsv; name the file accordingly`)
  if (!existsSync(opts.db) || !statSync(opts.db).isFile()) throw new Error(`${opts.db}: no such store`)
  if (!existsSync(opts.input) || !statSync(opts.input).isFile()) throw new Error(`${opts.input}: no such file`)
  const sequences = await readReportSequences(opts.input)
  const store = LatentStore.open(opts.db)
  try {
    const runId = opts.run ?? store.defaultRunId()
    const run = store.run(runId)
    if (!run) throw new Error(`${opts.db}: no run ${runId} in this store`)
    const modelDir = opts.model ?? (run.settings.modelDir as string | undefined)
    const saeDir = opts.sae ?? (run.settings.saeDir as string | undefined)
    if (!modelDir || !saeDir)
      throw new Error(`run ${runId} does not record where its model and SAE are; give them with --model and --sae`)
    const { extractor, close } = await openLatentSource({
      ...modelSourceFrom({ ...opts, model: modelDir }, log),
      saeDir,
      sae: { layer: run.layer },
      onSaeLoaded: (sae, model) => {
        if (model.imported.hash !== run.modelHash || sae.hash !== run.saeHash) {
          throw new Error(
            `the model and SAE given (${model.imported.name}, ${sae.name}) are not the ones run ${runId} was indexed with (${run.modelName}, ${run.saeName})`
          )
        }
      },
      extractor: { layer: run.layer }
    })
    try {
      log.line(
        `annotating ${sequences.length} sequence${sequences.length === 1 ? '' : 's'} from ${opts.input} with run ${runId} (${run.modelName} + ${run.saeName})`
      )
      const report = await conceptReport(store, extractor, sequences, {
        runId,
        floor: opts.floor,
        minFraction: opts.minFraction
      })
      writeFileAtomic(opts.out, format === 'json' ? `${JSON.stringify(report)}\n` : reportTsv(report))
      const tracks = report.sequences.reduce((a, s) => a + s.predicted.length, 0)
      log.line(
        `wrote ${opts.out}: ${report.predictors} features predict concepts (F1 ≥ ${report.floor}); ${tracks} predicted tracks` +
          (report.family
            ? `; ${report.family.features.length} features fire in at least ${Math.round(report.family.minFraction * 100)} % of the family`
            : '')
      )
    } finally {
      await close()
    }
  } finally {
    store.close()
  }
}
