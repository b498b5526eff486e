/** Option parsing shared by the CLI commands: numbers, layer lists, and the runtime (device) options. */
import { Command, Help, InvalidArgumentError, Option } from 'commander'
import { DEVICE_CHOICES, type DeviceChoice, type RuntimeOptions } from '../engine/runtime/execution-provider'
import type { ModelSource } from '../engine/esm/open-esm2'
import { modelCacheRoot } from '../engine/fs/app-paths'
import { formatsSummary } from '../engine/sae/sae-formats'
import type { LoadSaeOptions } from '../engine/sae/sae-load'

export function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value)
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n <= 0)
      throw new InvalidArgumentError(`${name} must be a positive integer, got "${value}"`)
    return n
  }
}

export function nonNegativeInt(name: string) {
  return (value: string): number => {
    const n = Number(value)
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n))
      throw new InvalidArgumentError(`${name} must be a whole number ≥ 0, got "${value}"`)
    return n
  }
}

/** A whole number from `limits.min` to `limits.max` (e.g. a limit of a request schema in src/shared). */
export function intInRange(name: string, limits: { min: number; max: number }) {
  return (value: string): number => {
    const n = Number(value)
    if (!/^\d+$/.test(value.trim()) || n < limits.min || n > limits.max)
      throw new InvalidArgumentError(
        `${name} must be a whole number from ${limits.min} to ${limits.max}, got "${value}"`
      )
    return n
  }
}

/** A number in [min, maxIncl] (e.g. a temperature, a fraction). */
export function finiteNumber(name: string, min: number, maxIncl = Infinity) {
  return (value: string): number => {
    const n = Number(value)
    if (!Number.isFinite(n) || n < min || n > maxIncl)
      throw new InvalidArgumentError(`${name} must be a number in [${min}, ${maxIncl}], got "${value}"`)
    return n
  }
}

/** An option that takes one of a list of values, with a default. */
export function choiceOption(
  flags: string,
  description: string,
  choices: readonly string[],
  defaultValue: string
): Option {
  return new Option(flags, description).choices([...choices]).default(defaultValue)
}

export function layerList(value: string): number[] {
  const parts = value
    .split(',')
    .map(s => s.trim())
    .filter(s => s.length > 0)
  if (parts.length === 0) throw new InvalidArgumentError('give one or more layer numbers, e.g. --layers 4,6')
  return parts.map(p => {
    if (!/^\d+$/.test(p))
      throw new InvalidArgumentError(`"${p}" is not a layer number (layers are 0 = embeddings, 1..N = block outputs)`)
    return Number(p)
  })
}

export function addRuntimeOptions(cmd: Command): Command {
  return cmd
    .addOption(
      choiceOption(
        '--device <device>',
        'where to run: auto (CUDA if it loads, else a WebGPU GPU, else the CPU), cuda, webgpu, or cpu',
        DEVICE_CHOICES,
        'auto'
      )
    )
    .option('--device-id <n>', 'CUDA device id', nonNegativeInt('--device-id'), 0)
    .option('--threads <n>', 'CPU threads for inference (0 = one per core)', nonNegativeInt('--threads'), 0)
    .option('--cache-dir <dir>', 'model cache folder (default: the app data folder, or $PLM_SAE_HOME/models)')
}

/** The options `addRuntimeOptions` adds. */
export interface RuntimeCliOptions {
  device: string
  deviceId: number
  threads: number
  cacheDir?: string
}

export function runtimeFrom(opts: { device: string; deviceId: number; threads: number }): RuntimeOptions {
  return { device: opts.device as DeviceChoice, deviceId: opts.deviceId, threads: opts.threads }
}

/**
 * Where a command's model comes from (--model, --cache-dir, the runtime options, --window where it has one),
 * with the import's progress drawn on the reporter.
 */
export function modelSourceFrom(
  opts: RuntimeCliOptions & { model: string; window?: number },
  log: { progress(label: string, done: number, total: number): void; done(): void }
): ModelSource {
  return {
    modelDir: opts.model,
    cacheRoot: opts.cacheDir ?? modelCacheRoot(),
    runtime: runtimeFrom(opts),
    window: opts.window,
    onImportProgress: p => log.progress(`importing model: ${p.phase}`, p.done, p.total),
    onImported: () => log.done()
  }
}

/** The SAE options of every command that reads an SAE; the formats named in --help come from the registry. */
export interface SaeCliOptions {
  sae?: string
  saeLayer?: number
  saeFile?: string
  saeK?: number
}

export function addSaeOptions(cmd: Command, required: boolean, what = 'the SAE'): Command {
  const saeHelp = `${what}: a file or folder in any of these formats: ${formatsSummary()}`
  if (required) cmd.requiredOption('--sae <path>', saeHelp)
  else cmd.option('--sae <path>', saeHelp)
  return cmd
    .option(
      '--sae-layer <n>',
      'the layer the SAE reads, when its files do not say (checked against them when they do; picks the SAE of that layer in a folder of several)',
      nonNegativeInt('--sae-layer')
    )
    .option('--sae-file <name>', 'in a folder holding several SAEs: which one (its path inside the folder)')
    .option(
      '--sae-k <n>',
      "InterProt: latents kept per row (its files do not store k; default: the file name's _k<k>, else 128)",
      positiveInt('--sae-k')
    )
}

export function saeLoadOptions(opts: SaeCliOptions): LoadSaeOptions {
  return { layer: opts.saeLayer, file: opts.saeFile, k: opts.saeK }
}

/** `--help` of `cmd` and its subcommands marks the options it cannot run without as "(required)". */
export function markRequiredOptions(cmd: Command): Command {
  const help = new Help()
  cmd.configureHelp({
    optionDescription: (o: Option) => `${o.mandatory ? '(required) ' : ''}${help.optionDescription(o)}`
  })
  for (const sub of cmd.commands) markRequiredOptions(sub)
  return cmd
}

/** The "Example:" block at the end of a command's `--help`. */
export function helpExample(cmd: Command, ...lines: string[]): Command {
  return cmd.addHelpText(
    'after',
    `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map(l => `  $ ${l}`).join('\n')}\n`
  )
}
