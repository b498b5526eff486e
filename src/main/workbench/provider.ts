/**
 * Which execution provider inference runs on (CUDA GPU or CPU, and why), found once by creating a tiny
 * ONNX session the same way the models do (the same probe as `plm-sae device`).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ExecutionProviderInfo } from '../../shared/api'
import { ElemType, GraphBuilder, encodeModel } from '../engine/onnx/onnx-model'
import { createSession, describeProvider, type RuntimeOptions } from '../engine/runtime/execution-provider'

export async function probeProvider(runtime: RuntimeOptions): Promise<ExecutionProviderInfo> {
  const b = new GraphBuilder('probe')
  const x = b.input('x', ElemType.FLOAT, [1])
  b.output(b.relu(x), 'y', ElemType.FLOAT, [1])
  const dir = mkdtempSync(join(tmpdir(), 'plm-sae-probe-'))
  try {
    const path = join(dir, 'probe.onnx')
    writeFileSync(path, encodeModel(b.build(), 'probe'))
    const { session, report } = await createSession(path, runtime)
    await session.release()
    return {
      provider: report.provider,
      deviceName: report.deviceName,
      deviceId: report.deviceId,
      threads: report.threads,
      fallbackReason: report.fallbackReason,
      summary: describeProvider({ ...report, fallbackReason: undefined })
    }
  } catch (e) {
    return {
      provider: 'cpu',
      threads: runtime.threads,
      fallbackReason: `ONNX Runtime could not start a session: ${(e as Error).message}`,
      summary: 'CPU (ONNX Runtime failed to start)'
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
