/**
 * The steering intervention and the spliced forward, on a random tiny ESM2 and a random preprint-format SAE:
 * no clamp leaves the logits unchanged; clamped logits match an independent float64 reference (HF forward to
 * layer L, the literal decode(clamp(encode(h))) + (h − decode(encode(h))), HF forward from layer L); plans are
 * checked with clear errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { relativeError, randomProtein } from './helpers/compare'
import { tempDir } from './helpers/tmp'
import { steerSetup, type SteerSetup } from './steer-helpers'
import { referenceForward } from './reference/esm2-reference'
import { referenceForwardFrom, referenceSteer } from './reference/steer-reference'
import { tokenize } from '../src/main/engine/esm/alphabet'
import { encodeRows } from '../src/main/engine/sae/sae-math'
import type { SaeWeights } from '../src/main/engine/sae/sae-weights'
import { FeatureIntervention } from '../src/main/engine/steer/intervention'
import { resolveSteeringPlan } from '../src/main/engine/steer/steering-plan'
import { SteeredModel, steeringLayer } from '../src/main/engine/steer/steered-model'
import type { ClampSpec } from '../src/shared/steering-types'

describe('steering intervention', () => {
  const tmp = tempDir('steer-int')
  let s: SteerSetup
  let steered: SteeredModel

  beforeAll(async () => {
    s = await steerSetup(tmp.dir)
    steered = new SteeredModel(s.model, s.sae)
  })
  afterAll(async () => {
    await s?.model.close()
    tmp.cleanup()
  })

  const plan = (clamps: ClampSpec[], residues: number, max?: (f: number) => number | undefined) =>
    resolveSteeringPlan({ clamps }, { dSae: s.sae.dSae, saeName: s.sae.name, residues, maxActivation: max })

  it('reads the layer from the SAE (preprint block 1 = hidden_states[2])', () => {
    expect(steered.layer).toBe(2)
  })

  it('with no clamp, the spliced forward gives the unsteered logits', async () => {
    const tokens = [tokenize(randomProtein(37, 1), 'a'), tokenize(randomProtein(52, 2), 'b')]
    const none = new FeatureIntervention(s.sae, [])
    const spliced = await steered.logits(tokens, none)
    const plain = await steered.unsteeredLogits(tokens)
    for (let i = 0; i < tokens.length; i++) expect(relativeError(spliced[i], plain[i])).toBeLessThan(1e-5)
    // and the intervention itself returns h bit for bit
    const [h] = await steered.hiddenAtLayer([tokens[0]])
    expect(Array.from(none.apply(h, tokens[0].length))).toEqual(Array.from(h))
    // a clamp that adds 0 changes nothing either
    const zero = new FeatureIntervention(s.sae, plan([{ feature: 3, mode: 'add-to-natural', value: 0 }], 37))
    expect(Array.from(zero.apply(h, tokens[0].length))).toEqual(Array.from(h))
  })

  it('matches the float64 reference: forward to L, literal intervention, forward from L', async () => {
    const seq = randomProtein(29, 3)
    const tokens = tokenize(seq, 'p')
    const T = tokens.length
    const clampSpecs: ClampSpec[] = [
      { feature: 5, mode: 'absolute', value: 4, range: { start: 3, end: 12 } },
      { feature: 40, mode: 'add-to-natural', value: 2.5 },
      { feature: 7, mode: 'absolute', value: 0 }
    ]
    const resolved = plan(clampSpecs, 29)
    const [logits] = await steered.logits([tokens], new FeatureIntervention(s.sae, resolved))
    const ref = referenceForward(s.weights, s.refConfig, Array.from(tokens))
    const hRef = referenceSteer(s.saeFixture.tensors, ref.hidden[2], T, s.sae.dIn, resolved)
    const logitsRef = referenceForwardFrom(s.weights, s.refConfig, hRef, T, 2)
    expect(relativeError(logits, logitsRef)).toBeLessThan(1e-4)
    // the steering did something measurable
    expect(relativeError(ref.logits, logitsRef)).toBeGreaterThan(1e-2)
    // <cls> and <eos> rows of the hidden state are untouched
    const [h] = await steered.hiddenAtLayer([tokens])
    const hs = new FeatureIntervention(s.sae, resolved).apply(h, T)
    const H = s.sae.dIn
    expect(Array.from(hs.subarray(0, H))).toEqual(Array.from(h.subarray(0, H)))
    expect(Array.from(hs.subarray((T - 1) * H))).toEqual(Array.from(h.subarray((T - 1) * H)))
    // rows outside a ranged clamp carry only the unranged clamps
    const unranged = new FeatureIntervention(
      s.sae,
      resolved.filter(c => !c.spec.range)
    ).apply(h, T)
    expect(Array.from(hs.subarray(21 * H, 22 * H))).toEqual(Array.from(unranged.subarray(21 * H, 22 * H)))
    expect(Array.from(hs.subarray(5 * H, 6 * H))).not.toEqual(Array.from(unranged.subarray(5 * H, 6 * H)))
  })

  it('also from the spliced 8M-style last layer (intervention at the final hidden state)', async () => {
    const sae: SaeWeights = { ...s.sae, layer: 3 }
    const last = new SteeredModel(s.model, sae)
    const tokens = tokenize(randomProtein(21, 4), 'q')
    const resolved = resolveSteeringPlan(
      { clamps: [{ feature: 1, mode: 'absolute', value: 3 }] },
      { dSae: 64, saeName: 'x', residues: 21 }
    )
    const [logits] = await last.logits([tokens], new FeatureIntervention(sae, resolved))
    const ref = referenceForward(s.weights, s.refConfig, Array.from(tokens))
    const hRef = referenceSteer(s.saeFixture.tensors, ref.hidden[3], tokens.length, 32, resolved)
    expect(relativeError(logits, referenceForwardFrom(s.weights, s.refConfig, hRef, tokens.length, 3))).toBeLessThan(
      1e-4
    )
  })

  it('computes natural values exactly as encodeRows, for ReLU, JumpReLU and TopK SAEs', async () => {
    const tokens = tokenize(randomProtein(15, 5), 'r')
    const [h] = await steered.hiddenAtLayer([tokens])
    const T = tokens.length
    const feats = [0, 9, 33, 63]
    const threshold = new Float32Array(64).fill(0.2)
    const variants: SaeWeights[] = [
      s.sae,
      { ...s.sae, activation: { kind: 'jumprelu', threshold, relu: false } },
      { ...s.sae, activation: { kind: 'topk', k: 5, relu: true } },
      { ...s.sae, inputNorm: 'sqrt-d' },
      { ...s.sae, inputNorm: 'standardize' }
    ]
    for (const sae of variants) {
      const full = encodeRows(sae, h, T)
      const { values } = new FeatureIntervention(sae, []).naturalValues(h, T, feats)
      for (let r = 0; r < T; r++) feats.forEach((j, k) => expect(values[r * feats.length + k]).toBe(full[r * 64 + j]))
    }
  })

  it('resolves multiple-of-max against the project max and add-to-natural as an addition', () => {
    const r = plan(
      [
        { feature: 2, mode: 'multiple-of-max', value: 1.5 },
        { feature: 3, mode: 'add-to-natural', value: -1, range: { start: 2, end: 4 } }
      ],
      10,
      f => (f === 2 ? 4 : undefined)
    )
    expect(r[0]).toMatchObject({ feature: 2, op: 'set', value: 6, rowStart: 1, rowEnd: 11 })
    expect(r[1]).toMatchObject({ feature: 3, op: 'add', value: -1, rowStart: 2, rowEnd: 5 })
  })

  it('refuses invalid plans with clear errors', () => {
    expect(() => plan([{ feature: 64, mode: 'absolute', value: 1 }], 10)).toThrow(
      /clamp 1 \(feature 64\): feature 64 does not exist: the SAE "sae" has features 0 to 63/
    )
    expect(() => plan([{ feature: -1, mode: 'absolute', value: 1 }], 10)).toThrow(
      /clamps\[0\]\.feature: must be between 0 and/
    )
    expect(() => plan([{ feature: 1.5, mode: 'absolute', value: 1 }], 10)).toThrow(
      /clamps\[0\]\.feature: expected a whole number/
    )
    expect(() => plan([{ feature: 1, mode: 'absolute', value: NaN }], 10)).toThrow(
      /clamps\[0\]\.value: expected a finite number, got number NaN/
    )
    expect(() =>
      plan(
        [
          { feature: 1, mode: 'absolute', value: 1 },
          { feature: 2, mode: 'absolute', value: 1, range: { start: 5, end: 11 } }
        ],
        10
      )
    ).toThrow(/clamp 2 \(feature 2\): residue range 5-11 is outside the sequence, which has residues 1-10/)
    expect(() => plan([{ feature: 2, mode: 'absolute', value: 1, range: { start: 0, end: 3 } }], 10)).toThrow(
      /clamps\[0\]\.range\.start: must be between 1 and/
    )
    expect(() => plan([{ feature: 2, mode: 'absolute', value: 1, range: { start: 6, end: 3 } }], 10)).toThrow(
      /clamps\[0\]\.range: end \(3\) is before start \(6\)/
    )
    expect(() => plan([{ feature: 2, mode: 'multiple-of-max', value: 1 }], 10)).toThrow(
      /needs the feature's max activation in the project/
    )
    expect(() => plan([{ feature: 2, mode: 'multiple-of-max', value: 1 }], 10, () => 0)).toThrow(
      /never fires in the project/
    )
    expect(() => plan([{ feature: 2, mode: 'sideways' as never, value: 1 }], 10)).toThrow(
      /clamps\[0\]\.mode: must be one of absolute, multiple-of-max, add-to-natural/
    )
  })

  it('refuses an SAE of another width or layer', () => {
    expect(() => steeringLayer(s.model, { ...s.sae, dIn: 320 })).toThrow(
      /reads vectors of width 320, but .* has hidden size 32/
    )
    expect(() => steeringLayer(s.model, { ...s.sae, layer: undefined })).toThrow(/does not say which layer/)
    expect(() => steeringLayer(s.model, { ...s.sae, layer: 9 })).toThrow(
      /reads layer 9, but .* has layers 0 \(embeddings\) to 3/
    )
  })
})
