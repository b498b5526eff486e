/** `plm-sae device`: says which execution provider inference would run on, and why. */
import { Command } from 'commander'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ElemType, GraphBuilder, encodeModel } from '../../engine/onnx/onnx-model'
import { createSession, describeProvider } from '../../engine/runtime/execution-provider'
import { addRuntimeOptions, runtimeFrom } from '../options'

export function deviceCommand(): Command {
  const cmd = new Command('device').description('Show the execution provider (CUDA GPU or CPU) that inference runs on, and why')
  addRuntimeOptions(cmd)
  return cmd.action(async (opts: { device: string; deviceId: number; threads: number }) => {
    // A one-node graph is enough to find out whether a session can be created on the device.
    const b = new GraphBuilder('probe')
    const x = b.input('x', ElemType.FLOAT, [1])
    b.output(b.relu(x), 'y', ElemType.FLOAT, [1])
    const dir = mkdtempSync(join(tmpdir(), 'plm-sae-probe-'))
    try {
      const path = join(dir, 'probe.onnx')
      writeFileSync(path, encodeModel(b.build(), 'probe'))
      const { session, report } = await createSession(path, runtimeFrom(opts))
      await session.release()
      process.stdout.write(`${describeProvider(report)}\n`)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
}
