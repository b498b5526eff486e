/** `plm-sae device`: says which execution provider inference would run on, and why. */
import { Command } from 'commander'
import { describeProvider, probeProvider } from '../../engine/runtime/execution-provider'
import { addRuntimeOptions, runtimeFrom } from '../options'

export function deviceCommand(): Command {
  const cmd = new Command('device').description('Show the execution provider (CUDA GPU or CPU) that inference runs on, and why')
  addRuntimeOptions(cmd)
  return cmd.action(async (opts: { device: string; deviceId: number; threads: number }) => {
    process.stdout.write(`${describeProvider(await probeProvider(runtimeFrom(opts)))}\n`)
  })
}
