/**
 * `plm-sae experiment --design design.json --model DIR --sae DIR --out DIR [--db store.sqlite] [--reference proteins.fasta]`:
 * runs a steering experiment (the same job as the app's) from a JSON design (schema: `ExperimentDesign`,
 * documented in the README, "Steering experiments") and writes its exports into --out: sequences.csv,
 * experiment.json (design + summary), fasta/<condition>.fasta, plots/*.svg, report.html.
 *
 * The experiment is stored in --db (default: <out>/experiment.sqlite). Running the same command again resumes
 * an interrupted experiment without recomputing finished sequences (or only rewrites the exports when it is
 * complete).
 */
import { Command } from 'commander'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { modelCacheRoot } from '../../engine/fs/app-paths'
import { runExperimentFiles, writeExperimentExports } from '../../engine/experiment/experiment-job'
import { checkExperimentDesign } from '../../../shared/experiment-types'
import { addRuntimeOptions, nonNegativeInt, runtimeFrom, helpExample, type RuntimeCliOptions } from '../options'
import { Reporter } from '../reporter'

interface ExperimentOptions extends RuntimeCliOptions {
  design: string
  model: string
  sae: string
  saeLayer?: number
  out: string
  db?: string
  reference?: string
  quiet?: boolean
}

export function experimentCommand(): Command {
  const cmd = new Command('experiment')
    .description(
      'Run a steering experiment (clamp sets × doses + controls, outcomes, statistics) from a JSON design; write CSV, JSON, FASTA per condition, SVG plots and an HTML report'
    )
    .requiredOption('--design <design.json>', 'the experiment design (see the README, "Steering experiments")')
    .requiredOption('--model <dir>', 'an ESM2 checkpoint folder (or fair-esm .pt file)')
    .requiredOption('--sae <dir>', 'the SAE folder')
    .option('--sae-layer <n>', 'the layer the SAE reads, when its files do not say', nonNegativeInt('--sae-layer'))
    .requiredOption('--out <dir>', 'folder for the exports (created)')
    .option(
      '--db <store.sqlite>',
      'project store: proteins for start.kind "proteins", feature statistics, concepts; the experiment is stored in it (default: <out>/experiment.sqlite)'
    )
    .option(
      '--reference <proteins.fasta>',
      "measure firing frequencies and max activations on these proteins (random controls, multiple-of-max clamps) instead of the store's"
    )
    .option('-q, --quiet', 'print nothing but errors')
  addRuntimeOptions(cmd)
  helpExample(
    cmd,
    'plm-sae experiment --design design.json --model models/esm2_t6_8M_UR50D --sae saes/esm2-8m-layer4 --db sprot.sqlite --out results/'
  )
  return cmd.action(async (opts: ExperimentOptions) => runExperimentCommand(opts))
}

export async function runExperimentCommand(opts: ExperimentOptions): Promise<void> {
  const log = new Reporter(opts.quiet ?? false)
  if (!existsSync(opts.design)) throw new Error(`--design ${opts.design}: no such file`)
  let design: unknown
  try {
    design = JSON.parse(readFileSync(opts.design, 'utf8'))
  } catch (e) {
    throw new Error(`--design ${opts.design}: not valid JSON (${(e as Error).message})`, { cause: e })
  }
  checkExperimentDesign(design)
  if (opts.reference && !existsSync(opts.reference)) throw new Error(`--reference ${opts.reference}: no such file`)
  mkdirSync(opts.out, { recursive: true })
  const db = opts.db ?? join(opts.out, 'experiment.sqlite')
  const started = performance.now()
  const { id, summary, resumed } = await runExperimentFiles(
    {
      modelDir: opts.model,
      saeDir: opts.sae,
      layer: opts.saeLayer,
      cacheRoot: opts.cacheDir ?? modelCacheRoot(),
      runtime: runtimeFrom(opts),
      db,
      reference: opts.reference
    },
    design,
    {
      onImport: (phase, done, total) => log.progress(phase, done, total),
      onProgress: p => log.progress(p.phase, p.done, p.total)
    }
  )
  log.done()
  const files = writeExperimentExports(opts.out, db, id)
  const seconds = (performance.now() - started) / 1000
  log.line(
    `experiment ${id}${resumed ? ' (resumed)' : ''}: ${summary.conditions.length} conditions × ${design.n} sequences, PLL ${summary.provenance.pllMethod}, in ${seconds.toFixed(1)} s; stored in ${db}`
  )
  for (const s of summary.clampSets) {
    log.line(
      `  ${s.name}: effect at the strongest dose ${s.effect?.toFixed(4) ?? 'NA'} (random controls ${s.randomEffect?.toFixed(4) ?? 'NA'}); strongest dose within the likelihood margin ${s.bestDose ?? 'none'}, success ${s.success ? `${s.success.successes}/${s.success.n}` : 'NA'}`
    )
  }
  log.line(`wrote ${files.length} files into ${opts.out} (report.html, sequences.csv, experiment.json, fasta/, plots/)`)
}
