/** Option parsing shared by the CLI commands: numbers, layer lists, and the runtime (device) options. */
import { Command, InvalidArgumentError, Option } from 'commander'
import { DEVICE_CHOICES, type DeviceChoice, type RuntimeOptions } from '../engine/runtime/execution-provider'

export function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value)
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive integer, got "${value}"`)
    return n
  }
}

export function nonNegativeInt(name: string) {
  return (value: string): number => {
    const n = Number(value)
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`${name} must be a whole number ≥ 0, got "${value}"`)
    return n
  }
}

export function layerList(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
  if (parts.length === 0) throw new InvalidArgumentError('give one or more layer numbers, e.g. --layers 4,6')
  return parts.map((p) => {
    if (!/^\d+$/.test(p)) throw new InvalidArgumentError(`"${p}" is not a layer number (layers are 0 = embeddings, 1..N = block outputs)`)
    return Number(p)
  })
}

export function addRuntimeOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--device <device>', 'where to run: auto (CUDA if it loads, else a WebGPU GPU, else the CPU), cuda, webgpu, or cpu').choices([...DEVICE_CHOICES]).default('auto'))
    .option('--device-id <n>', 'CUDA device id', nonNegativeInt('--device-id'), 0)
    .option('--threads <n>', 'CPU threads for inference (0 = one per core)', nonNegativeInt('--threads'), 0)
    .option('--cache-dir <dir>', 'model cache folder (default: the app data folder, or $PLM_SAE_HOME/models)')
}

export function runtimeFrom(opts: { device: string; deviceId: number; threads: number }): RuntimeOptions {
  return { device: opts.device as DeviceChoice, deviceId: opts.deviceId, threads: opts.threads }
}
