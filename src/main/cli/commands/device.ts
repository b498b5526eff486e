/** `plm-sae device`: says which execution provider inference would run on, and why. */
import { Command } from 'commander'
import { cudaSetupAdvice } from '../../engine/runtime/cuda-setup'
import { describeProvider, probeProvider, type DeviceChoice, type ProviderReport } from '../../engine/runtime/execution-provider'
import { addRuntimeOptions, helpExample, runtimeFrom } from '../options'

/** The provider line, with the reason for the CPU even where the app stays quiet about it (no NVIDIA GPU). */
export function deviceLine(report: ProviderReport, device: DeviceChoice): string {
  if (report.provider === 'cpu' && !report.fallbackReason) {
    const why = device === 'cpu' ? '--device cpu was asked for' : cudaSetupAdvice().message.replace(/^CPU: /, '')
    return `${describeProvider(report)}: ${why}`
  }
  return describeProvider(report)
}

export function deviceCommand(): Command {
  const cmd = new Command('device').description('Show the execution provider (CUDA GPU or CPU) that inference runs on, and why')
  helpExample(cmd, 'plm-sae device', 'plm-sae device --device cuda --device-id 1')
  addRuntimeOptions(cmd)
  return cmd.action(async (opts: { device: string; deviceId: number; threads: number }) => {
    const runtime = runtimeFrom(opts)
    process.stdout.write(`${deviceLine(await probeProvider(runtime), runtime.device)}\n`)
  })
}
