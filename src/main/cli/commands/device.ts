/** `plm-sae device`: says which execution provider inference would run on, and why. */
import { Command } from 'commander'
import { describeProvider, probeProvider } from '../../engine/runtime/execution-provider'
import { addRuntimeOptions, helpExample, runtimeFrom } from '../options'

export function deviceCommand(): Command {
  const cmd = new Command('device').description(
    'Show the execution provider (CUDA GPU, WebGPU adapter or CPU) that inference runs on, and why'
  )
  helpExample(cmd, 'plm-sae device', 'plm-sae device --device webgpu', 'plm-sae device --device cuda --device-id 1')
  addRuntimeOptions(cmd)
  return cmd.action(async (opts: { device: string; deviceId: number; threads: number }) => {
    const report = await probeProvider(runtimeFrom(opts))
    process.stdout.write(`${describeProvider(report)}\n`)
    if (report.reason) process.stdout.write(`why: ${report.reason}\n`)
  })
}
