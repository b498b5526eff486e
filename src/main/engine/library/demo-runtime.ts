/** Runs the demo ESM2 with the real runtime (import + ONNX) to calibrate the demo SAE. */
import { openEsm2 } from '../esm/open-esm2'
import { tokenize } from '../esm/alphabet'
import { DEFAULT_RUNTIME, type RuntimeOptions } from '../runtime/execution-provider'
import { ensureDemoModels, type DemoModelPaths, type HiddenStatesRunner } from './demo-models'

export function onnxHiddenRunner(
  modelCacheRoot: string,
  runtime: RuntimeOptions = { ...DEFAULT_RUNTIME, device: 'cpu' }
): HiddenStatesRunner {
  return async (esm2Dir, sequences, layer) => {
    const model = await openEsm2({ modelDir: esm2Dir, cacheRoot: modelCacheRoot, runtime })
    const inputs = sequences.map((s, i) => ({ id: `calibration-${i}`, tokens: tokenize(s, `calibration-${i}`) }))
    const byId = new Map<string, Float32Array>()
    for await (const out of model.forward(inputs, { hidden: [layer], logits: false }))
      byId.set(out.id, out.hidden.get(layer) as Float32Array)
    return inputs.map(x => byId.get(x.id) as Float32Array)
  }
}

/** `ensureDemoModels` with the ONNX runtime on the CPU. */
export function ensureDemoModelsWithRuntime(
  dataDir: string,
  esmResourcesDir: string,
  modelCacheRoot: string
): Promise<DemoModelPaths> {
  return ensureDemoModels(dataDir, esmResourcesDir, onnxHiddenRunner(modelCacheRoot))
}
