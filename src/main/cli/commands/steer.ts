/**
 * `plm-sae steer`: generates sequences with ESM2 steered through SAE features, scores them, and writes FASTA
 * (headers record model, SAE, layer, clamps, mode, seed and scores) with CSV and JSON of the run alongside.
 *
 * Clamps (`--clamp`, repeatable):  F=V   set feature F to V (the default mode, see --clamp-mode)
 *                                  F=Vx  set F to V × its max activation in the project (needs --max F=M or --db)
 *                                  F+=V  add V to F's natural activation
 *                                  ...@A-B  only at residues A..B (1-based, inclusive); default --range or all
 */
import { Command, InvalidArgumentError, Option } from 'commander'
import { existsSync, writeFileSync } from 'node:fs'
import { LatentStore } from '../../engine/store/latent-store'
import type { Esm2Model } from '../../engine/esm/esm2-model'
import { describeProvider } from '../../engine/runtime/execution-provider'
import type { SaeWeights } from '../../engine/sae/sae-weights'
import { FeatureIntervention } from '../../engine/steer/intervention'
import { resolveSteeringPlan } from '../../engine/steer/steering-plan'
import { openSteeredModel } from '../../engine/steer/open-steered-model'
import { SteeredModel } from '../../engine/steer/steered-model'
import { runSteering } from '../../engine/steer/steering-run'
import { toCsv, toFasta, toJson } from '../../engine/steer/run-export'
import { parse } from '../../../shared/schema'
import {
  CLAMP_MODES,
  GENERATION_MODES,
  STEERING_LIMITS,
  SteeringRequestSchema,
  type ClampMode,
  type ClampSpec,
  type GenerationSettings,
  type ResidueRange
} from '../../../shared/steering-types'
import {
  addRuntimeOptions,
  choiceOption,
  finiteNumber,
  addSaeOptions,
  helpExample,
  intInRange,
  modelSourceFrom,
  saeLoadOptions,
  type RuntimeCliOptions,
  type SaeCliOptions
} from '../options'
import { Reporter } from '../reporter'

/** The command's options: the generation settings are those of a steering request. */
interface SteerOptions extends RuntimeCliOptions, SaeCliOptions, GenerationSettings {
  model: string
  sae: string
  sequence?: string
  id: string
  clamp: string[]
  clampMode: ClampMode
  range?: ResidueRange
  max: Map<number, number>
  db?: string
  motif?: string
  pll: boolean
  out: string
  quiet?: boolean
}

export function parseRange(text: string, what = '--range'): ResidueRange {
  const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(text)
  if (!m)
    throw new Error(`${what}: "${text}" is not a residue range; write START-END, 1-based and inclusive, e.g. 10-42`)
  const r = { start: Number(m[1]), end: Number(m[2]) }
  if (r.start < 1 || r.end < r.start) throw new Error(`${what}: ${text} is not a residue range (1-based, start ≤ end)`)
  return r
}

/** One `--clamp` argument (see the module comment); `defaults` supply the mode and range when not written. */
export function parseClamp(text: string, defaults: { mode: ClampMode; range?: ResidueRange }): ClampSpec {
  const m = /^\s*(\d+)\s*(\+?=)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)\s*(x|×max|xmax)?\s*(?:@\s*(.+))?$/i.exec(
    text
  )
  if (!m) {
    throw new Error(
      `--clamp "${text}": write FEATURE=VALUE (set), FEATURE=VALUEx (× the feature's max), or FEATURE+=VALUE (added), optionally followed by @START-END, e.g. 1234=5 or 77+=2@10-40`
    )
  }
  const value = Number(m[3])
  if (!Number.isFinite(value)) throw new Error(`--clamp "${text}": the value is not a finite number`)
  let mode: ClampMode = defaults.mode
  if (m[2] === '+=') mode = 'add-to-natural'
  else if (m[4]) mode = 'multiple-of-max'
  const spec: ClampSpec = { feature: Number(m[1]), mode, value }
  const range = m[5] !== undefined ? parseRange(m[5], `--clamp "${text}"`) : defaults.range
  if (range) spec.range = range
  return spec
}

function collect(value: string, prev: string[]): string[] {
  return [...prev, value]
}

function maxEntry(value: string, prev: Map<number, number>): Map<number, number> {
  const m = /^\s*(\d+)\s*=\s*([-+]?[\d.]+(?:e[-+]?\d+)?)\s*$/i.exec(value)
  if (!m || !Number.isFinite(Number(m[2])))
    throw new InvalidArgumentError(`--max "${value}": write FEATURE=MAX, e.g. 1234=8.5`)
  return new Map(prev).set(Number(m[1]), Number(m[2]))
}

export function steerCommand(): Command {
  const cmd = new Command('steer')
    .description(
      'Generate protein sequences with ESM2 steered by clamping SAE features; score them; write FASTA + CSV + JSON'
    )
    .requiredOption('--model <dir>', 'an ESM2 checkpoint folder (or fair-esm .pt file)')
    .option('--sequence <residues>', 'the starting sequence (modes edit and resample)')
    .option('--id <name>', 'a name for the starting sequence', 'start')
    .option('--length <n>', 'length of de novo sequences (mode denovo)', intInRange('--length', STEERING_LIMITS.length))
    .addOption(
      new Option(
        '--clamp <F=V>',
        'clamp a feature (repeatable): F=V set, F=Vx times its max, F+=V add; @A-B limits it to residues A..B'
      )
        .argParser(collect)
        .default([], 'none')
    )
    .addOption(choiceOption('--clamp-mode <mode>', 'how a plain F=V is read', CLAMP_MODES, 'absolute'))
    .option('--range <A-B>', 'default residue range of the clamps (1-based, inclusive)', (v: string) => parseRange(v))
    .addOption(
      new Option('--max <F=M>', "a feature's max activation in the project, for F=Vx clamps (repeatable)")
        .argParser(maxEntry)
        .default(new Map<number, number>(), 'none')
    )
    .option(
      '--db <file.sqlite>',
      'a project store indexed with this SAE: max activations for F=Vx clamps come from its latest complete run'
    )
    .addOption(
      choiceOption(
        '--mode <mode>',
        'edit: one pass over every position; resample: rounds of masking and resampling; denovo: unmask an all-<mask> sequence',
        GENERATION_MODES,
        'edit'
      )
    )
    .option(
      '--n <n>',
      `number of sequences (at most ${STEERING_LIMITS.n.max})`,
      intInRange('--n', STEERING_LIMITS.n),
      1
    )
    .option(
      '--seed <n>',
      'seed of the sampler (same seed, same sequences)',
      intInRange('--seed', STEERING_LIMITS.seed),
      1
    )
    .option(
      '--temperature <t>',
      'sampling temperature over the 20 amino acids; 0 = argmax',
      finiteNumber('--temperature', STEERING_LIMITS.temperature.min, STEERING_LIMITS.temperature.max),
      1
    )
    .option(
      '--rounds <n>',
      'resample: rounds; denovo: unmasking steps',
      intInRange('--rounds', STEERING_LIMITS.rounds),
      10
    )
    .option(
      '--mask-fraction <f>',
      'resample: fraction of positions masked per round',
      finiteNumber('--mask-fraction', STEERING_LIMITS.maskFraction.min, STEERING_LIMITS.maskFraction.max),
      0.15
    )
    .option(
      '--motif <pattern>',
      'a PROSITE pattern whose hits are reported, e.g. "C-x(2,4)-C-x(3)-[LIVMFYWC]-x(8)-H-x(3,5)-H"'
    )
    .option('--no-pll', 'skip the pseudo-log-likelihood (one forward per residue: the slowest score)')
    .requiredOption('--out <file.fasta>', 'the FASTA to write; <name>.csv and <name>.json are written next to it')
    .option('-q, --quiet', 'print nothing but errors')
  addSaeOptions(cmd, true)
  helpExample(
    cmd,
    'plm-sae steer --model models/esm2_t6_8M_UR50D --sae saes/esm2-8m-layer4 --sequence MKTAYIAKQRQISFVKSHFSRQ --clamp 123=2x --db sprot.sqlite --mode edit --temperature 0 --out steered.fasta'
  )
  addRuntimeOptions(cmd)
  return cmd.action(async (opts: SteerOptions) => runSteer(opts))
}

export async function runSteer(opts: SteerOptions): Promise<void> {
  const log = new Reporter(opts.quiet ?? false)
  if (opts.mode === 'denovo') {
    if (opts.length === undefined) throw new Error('--mode denovo needs --length N')
    if (opts.sequence !== undefined) throw new Error('--mode denovo starts from masks: give --length, not --sequence')
  } else if (opts.sequence === undefined)
    throw new Error(
      `--mode ${opts.mode} needs a starting sequence: --sequence RESIDUES (or use --mode denovo --length N)`
    )
  const clamps = opts.clamp.map(c => parseClamp(c, { mode: opts.clampMode, range: opts.range }))
  // The same schema as the app's startSteering request (its errors name the field).
  const request = parse(
    SteeringRequestSchema,
    {
      ...(opts.sequence !== undefined ? { start: { id: opts.id, sequence: opts.sequence } } : {}),
      clamps,
      settings: {
        mode: opts.mode,
        n: opts.n,
        seed: opts.seed,
        temperature: opts.temperature,
        rounds: opts.rounds,
        maskFraction: opts.maskFraction,
        ...(opts.length !== undefined ? { length: opts.length } : {})
      },
      ...(opts.motif !== undefined ? { motif: opts.motif } : {}),
      pll: opts.pll
    },
    'request'
  )
  const max = new Map<number, number>()
  const steered = await openSteeredModel({
    ...modelSourceFrom(opts, log),
    saeDir: opts.sae,
    sae: saeLoadOptions(opts),
    layer: opts.saeLayer,
    onSaeLoaded: sae => {
      for (const [f, m] of opts.db ? storeMaxActivations(opts.db, sae) : []) max.set(f, m)
      for (const [f, m] of opts.max) max.set(f, m)
    }
  })
  const { model, sae } = steered
  const started = performance.now()
  try {
    const run = await runSteering({ steered, maxActivation: f => max.get(f) }, request, {
      onProgress: p => log.progress(p.phase, p.done, p.total)
    })
    log.done()
    const base = opts.out.replace(/\.(fasta|fa|faa)$/i, '')
    writeFileSync(opts.out, toFasta(run))
    writeFileSync(`${base}.csv`, toCsv(run))
    writeFileSync(`${base}.json`, toJson(run))
    const seconds = (performance.now() - started) / 1000
    log.line(
      `ran on ${model.provider ? describeProvider(model.provider) : 'cpu'}; SAE ${sae.name} at layer ${steered.layer}`
    )
    log.line(
      `wrote ${opts.out}, ${base}.csv, ${base}.json: ${run.sequences.length} sequences in ${seconds.toFixed(1)} s`
    )
  } finally {
    await model.close()
  }
}

/** Max activation per feature from a project store's latest complete run, which must be of this SAE. */
function storeMaxActivations(path: string, sae: SaeWeights): [number, number][] {
  if (!existsSync(path)) throw new Error(`--db ${path}: no such file`)
  const store = LatentStore.open(path, { readonly: true })
  try {
    const run = store
      .runs()
      .filter(r => r.status === 'complete')
      .at(-1)
    if (!run) throw new Error(`--db ${path}: the store has no complete indexing run yet`)
    if (run.saeHash !== sae.hash)
      throw new Error(
        `--db ${path}: its latest run was indexed with another SAE (sha256 ${run.saeHash.slice(0, 12)}, this one is ${sae.hash.slice(0, 12)}); its max activations do not apply`
      )
    const o = store.features.overview(run.id)
    return o.ids.map((f, i) => [f, o.max[i]])
  } finally {
    store.close()
  }
}

/**
 * `plm-sae infer --clamp F=V`: absolute clamps at every residue position; `logits(tokens)` gives the steered
 * logits of one sequence ([T, 33]). Only the plain F=V form is accepted there.
 */
export interface InferSteering {
  clamps: ClampSpec[]
  logits(tokens: Int32Array): Promise<Float32Array>
}

export function inferSteering(
  model: Esm2Model,
  sae: SaeWeights | undefined,
  saeLayer: number | undefined,
  args: string[] | undefined
): InferSteering | undefined {
  if (!args || args.length === 0) return undefined
  if (!sae) throw new Error('--clamp needs --sae: the clamped features are those of an SAE')
  const clamps = args.map(a => {
    if (!/^\s*\d+\s*=\s*[^x×@]+$/i.test(a))
      throw new Error(
        `--clamp "${a}": infer takes FEATURE=VALUE only (an absolute value at every residue); use plm-sae steer for other modes and ranges`
      )
    return parseClamp(a, { mode: 'absolute' })
  })
  const steered = new SteeredModel(model, sae, saeLayer)
  return {
    clamps,
    async logits(tokens) {
      const plan = resolveSteeringPlan({ clamps }, { dSae: sae.dSae, saeName: sae.name, residues: tokens.length - 2 })
      const [out] = await steered.logits([tokens], new FeatureIntervention(sae, plan))
      return out
    }
  }
}
