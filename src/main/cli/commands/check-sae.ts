/**
 * `plm-sae check-sae --model M --sae S [--layers all]`: does this SAE fit this model and layer? Runs the fit check
 * of engine/sae/sae-fit.ts on a sample of proteins (a FASTA or UniProt file, or the demo set's Swiss-Prot
 * entries) and prints, per layer, FVU, cosine, L0, dead and dense fractions and the masked-LM loss recovered,
 * with warnings and, when the SAE's files name no layer, a proposed one. `--json` prints the report instead.
 */
import { Command } from 'commander'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tokenize } from '../../engine/esm/alphabet'
import { DEFAULT_WINDOW, type Esm2Model } from '../../engine/esm/esm2-model'
import { openEsm2 } from '../../engine/esm/open-esm2'
import { readProteins } from '../../engine/io/protein-input'
import { checkSaeFit, formatFitReport, type SaeFitReport } from '../../engine/sae/sae-fit'
import type { SaeWeights } from '../../engine/sae/sae-weights'
import { loadSae } from '../../engine/sae/sae-load'
import { resourcesDir } from '../../engine/fs/resources-path'
import {
  addRuntimeOptions,
  addSaeOptions,
  modelSourceFrom,
  positiveInt,
  saeLoadOptions,
  type SaeCliOptions,
  helpExample,
  type RuntimeCliOptions
} from '../options'
import { Reporter } from '../reporter'

interface CheckSaeOptions extends SaeCliOptions, RuntimeCliOptions {
  model: string
  layers?: string
  proteins?: string
  limit: number
  json?: boolean
  quiet?: boolean
}

export function checkSaeCommand(): Command {
  const cmd = new Command('check-sae')
    .description(
      'Check whether an SAE fits a model and layer: FVU, cosine, L0, dead/dense features and masked-LM loss recovered, per layer'
    )
    .requiredOption('--model <dir>', 'an ESM2 checkpoint folder (Hugging Face) or a fair-esm .pt file')
    .option(
      '--layers <list>',
      'layers to check: comma-separated, or "all" (default: the layer the SAE names, else all)'
    )
    .option(
      '--proteins <file>',
      'the sample: FASTA or UniProt flat file (default: the demo set, 100 Swiss-Prot entries)'
    )
    .option('--limit <n>', 'use the first n proteins of the sample that fit the window', positiveInt('--limit'), 32)
    .option('--json', 'print the report as JSON')
    .option('-q, --quiet', 'print nothing but the report and errors')
  addSaeOptions(cmd, true)
  addRuntimeOptions(cmd)
  helpExample(cmd, 'plm-sae check-sae --model models/esm2_t6_8M_UR50D --sae saes/esm2-8m-layer4 --layers all')
  return cmd.action(async (opts: CheckSaeOptions) => runCheckSae(opts))
}

function parseLayers(value: string | undefined, numLayers: number): number[] | undefined {
  if (value === undefined) return undefined
  if (value.trim() === 'all') return Array.from({ length: numLayers + 1 }, (_, l) => l)
  return value.split(',').map(p => {
    if (!/^\s*\d+\s*$/.test(p)) throw new Error(`--layers: "${p}" is not a layer number (or pass "all")`)
    return Number(p)
  })
}

export async function runCheckSae(opts: CheckSaeOptions): Promise<void> {
  const log = new Reporter(opts.quiet === true || opts.json === true)
  const sae = await loadSae(opts.sae as string, saeLoadOptions(opts))
  for (const note of sae.notes ?? []) log.line(`SAE ${sae.name}: ${note}`)
  const model = await openEsm2(modelSourceFrom(opts, log))
  try {
    const report = await checkSaeOn(model, sae, opts, log)
    process.stdout.write((opts.json ? JSON.stringify(report, null, 2) : formatFitReport(report)) + '\n')
  } finally {
    await model.close()
  }
}

async function checkSaeOn(
  model: Esm2Model,
  sae: SaeWeights,
  opts: CheckSaeOptions,
  log: Reporter
): Promise<SaeFitReport> {
  const c = model.config
  const layers = parseLayers(opts.layers, c.numLayers) ?? (opts.saeLayer !== undefined ? [opts.saeLayer] : undefined)
  const sample =
    opts.proteins ??
    join(
      resourcesDir({ isPackaged: false, fromDir: dirname(fileURLToPath(import.meta.url)) }),
      'demo',
      'swissprot-100.dat'
    )
  const proteins: Int32Array[] = []
  for await (const p of readProteins(sample, { policy: 'skip' })) {
    if (p.sequence.length > DEFAULT_WINDOW) continue
    proteins.push(tokenize(p.sequence, p.accession))
    if (proteins.length >= opts.limit) break
  }
  if (proteins.length === 0)
    throw new Error(`${sample}: no proteins of at most ${DEFAULT_WINDOW} residues to check the SAE on`)
  const report = await checkSaeFit(model, sae, proteins, {
    layers,
    onProgress: (d, t) => log.progress('checking', d, t)
  })
  log.done()
  return report
}
