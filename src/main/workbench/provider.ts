/**
 * Which execution provider inference runs on (CUDA GPU, WebGPU adapter or CPU, and why), found once with the engine's probe
 * (the same as `plm-sae device`).
 */
import type { ExecutionProviderInfo } from '../../shared/api'
import {
  describeProvider,
  probeProvider as probeEngineProvider,
  type RuntimeOptions
} from '../engine/runtime/execution-provider'

export async function probeProvider(runtime: RuntimeOptions): Promise<ExecutionProviderInfo> {
  try {
    const report = await probeEngineProvider(runtime)
    return {
      provider: report.provider,
      deviceName: report.deviceName,
      adapter: report.adapter,
      choice: runtime.device,
      reason: report.reason,
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
  }
}
