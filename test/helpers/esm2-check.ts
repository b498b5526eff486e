/** Checks an imported ESM2 model against the independent float64 reference forward pass. */
import { expect } from 'vitest'
import { tokenize } from '../../src/main/engine/esm/alphabet'
import type { ImportedEsm2 } from '../../src/main/engine/esm/esm2-import'
import { Esm2Model } from '../../src/main/engine/esm/esm2-model'
import type { referenceConfigFor, Esm2Weights } from '../fixtures/esm2-checkpoint'
import { referenceForward } from '../reference/esm2-reference'
import { relativeError } from './compare'

export const CPU = { device: 'cpu' as const, deviceId: 0, threads: 2 }
export const TOL = 1e-4

/** Runs `sequences` in one batch; every hidden state and the logits must match the reference to TOL. */
export async function expectMatchesReference(
  imported: ImportedEsm2,
  weights: Esm2Weights,
  refConfig: ReturnType<typeof referenceConfigFor>,
  sequences: string[]
): Promise<void> {
  const model = await Esm2Model.open(imported, CPU)
  try {
    const tokens = sequences.map((s, i) => tokenize(s, `s${i}`))
    const layers = Array.from({ length: refConfig.layers + 1 }, (_, l) => l)
    const outs = await model.runBatch(tokens, { hidden: layers, logits: true })
    tokens.forEach((t, i) => {
      const ref = referenceForward(weights, refConfig, Array.from(t))
      for (const l of layers)
        expect(relativeError(outs[i].hidden.get(l)!, ref.hidden[l]), `sequence ${i} layer ${l}`).toBeLessThan(TOL)
      expect(relativeError(outs[i].logits!, ref.logits), `sequence ${i} logits`).toBeLessThan(TOL)
    })
  } finally {
    await model.close()
  }
}
