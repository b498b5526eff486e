import { describe, expect, it } from 'vitest'
import { decodeRows, encodeRows, rowNorms } from '../src/main/engine/sae/sae-math'
import type { SaeActivation, SaeWeights } from '../src/main/engine/sae/sae-weights'
import { createRng } from './fixtures/esm2-checkpoint'
import { relativeError } from './helpers/compare'
import { genericDecode, genericEncode, type GenericConfig, type GenericTensors } from './reference/sae-reference'

const D_IN = 12
const D_SAE = 40
const ROWS = 7

function randomArray(n: number, seed: number, scale = 1, shift = 0): Float32Array {
  const rng = createRng(seed)
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) out[i] = rng.normal() * scale + shift
  return out
}

function tensors(seed: number, withPre: boolean): GenericTensors {
  const t: GenericTensors = {
    W_enc: { shape: [D_IN, D_SAE], data: randomArray(D_IN * D_SAE, seed, 0.4) },
    b_enc: { shape: [D_SAE], data: randomArray(D_SAE, seed + 1, 0.3, -0.2) },
    W_dec: { shape: [D_SAE, D_IN], data: randomArray(D_SAE * D_IN, seed + 2, 0.3) },
    b_dec: { shape: [D_IN], data: randomArray(D_IN, seed + 3, 0.5) },
    threshold: { shape: [D_SAE], data: randomArray(D_SAE, seed + 4, 0.2, 0.3) }
  }
  if (withPre) t.b_pre = { shape: [D_IN], data: randomArray(D_IN, seed + 5, 0.5) }
  return t
}

/** The generic layout maps one-to-one onto the canonical form (the loader test checks the real loader). */
function canonical(cfg: GenericConfig, t: GenericTensors): SaeWeights {
  const activation: SaeActivation =
    cfg.activation === 'relu'
      ? { kind: 'relu' }
      : cfg.activation === 'topk'
        ? { kind: 'topk', k: cfg.k ?? 0, relu: true }
        : { kind: 'jumprelu', threshold: Float32Array.from(t.threshold?.data ?? []), relu: false }
  return {
    source: 'memory',
    format: 'generic',
    hash: 'none',
    name: 'test',
    dIn: D_IN,
    dSae: D_SAE,
    layer: 2,
    activation,
    inputNorm: cfg.normalize_to_sqrt_d === true ? 'sqrt-d' : 'none',
    preBias: Float32Array.from((t.b_pre ?? t.b_dec).data),
    encWeight: Float32Array.from(t.W_enc.data),
    encBias: Float32Array.from(t.b_enc.data),
    featureScale: new Float32Array(D_SAE).fill(1),
    decWeight: Float32Array.from(t.W_dec.data),
    decBias: Float32Array.from(t.b_dec.data)
  }
}

const CASES: { name: string; cfg: GenericConfig; withPre: boolean }[] = [
  { name: 'relu (preprint-style, b_dec subtracted)', cfg: { activation: 'relu' }, withPre: false },
  {
    name: 'relu with a separate pre-bias and √d normalization',
    cfg: { activation: 'relu', normalize_to_sqrt_d: true },
    withPre: true
  },
  { name: 'topk', cfg: { activation: 'topk', k: 5 }, withPre: false },
  {
    name: 'topk, k larger than the positives',
    cfg: { activation: 'topk', k: 35, normalize_to_sqrt_d: true },
    withPre: true
  },
  { name: 'jumprelu', cfg: { activation: 'jumprelu' }, withPre: false }
]

describe('sae-math encodeRows/decodeRows', () => {
  for (const [n, c] of CASES.entries()) {
    it(`matches the float64 reference: ${c.name}`, () => {
      const t = tensors(100 + n * 10, c.withPre)
      const sae = canonical(c.cfg, t)
      const x = randomArray(ROWS * D_IN, 7 + n, 2, 0.3)
      const f = encodeRows(sae, x, ROWS)
      const s = rowNorms(sae, x, ROWS)
      const xHat = decodeRows(sae, f, ROWS, s)
      let fired = 0
      for (let r = 0; r < ROWS; r++) {
        const xr = x.subarray(r * D_IN, (r + 1) * D_IN)
        const fRef = genericEncode(c.cfg, t, xr)
        const fr = f.subarray(r * D_SAE, (r + 1) * D_SAE)
        expect(relativeError(fr, fRef)).toBeLessThan(1e-6)
        // Same support exactly (no feature fires in one and not the other).
        for (let j = 0; j < D_SAE; j++) expect(fr[j] > 0).toBe(fRef[j] > 0)
        fired += fRef.filter(v => v > 0).length
        // Decode the reference's own features, so the decode check is independent of encode.
        const xHatRef = genericDecode(c.cfg, t, fRef, xr)
        expect(relativeError(xHat.subarray(r * D_IN, (r + 1) * D_IN), xHatRef)).toBeLessThan(1e-5)
      }
      expect(fired).toBeGreaterThan(0)
      expect(fired).toBeLessThan(ROWS * D_SAE)
      if (c.cfg.activation === 'topk') expect(fired).toBeLessThanOrEqual(ROWS * (c.cfg.k ?? 0))
    })
  }

  it('featureScale multiplies the activations; rowNorms is 1 without normalization', () => {
    const t = tensors(5, false)
    const sae = canonical({ activation: 'relu' }, t)
    const x = randomArray(ROWS * D_IN, 3, 2)
    const plain = encodeRows(sae, x, ROWS)
    sae.featureScale = randomArray(D_SAE, 9, 0.1, 2)
    const scaled = encodeRows(sae, x, ROWS)
    for (let i = 0; i < plain.length; i++) expect(scaled[i]).toBeCloseTo(plain[i] * sae.featureScale[i % D_SAE], 5)
    expect([...rowNorms(sae, x, ROWS).scale]).toEqual(new Array(ROWS).fill(1))
  })

  it('rejects inputs that are too short', () => {
    const sae = canonical({ activation: 'relu' }, tensors(1, false))
    expect(() => encodeRows(sae, new Float32Array(D_IN), 2)).toThrow(/x has 12 values, expected at least 24/)
    expect(() => decodeRows(sae, new Float32Array(D_SAE), 2)).toThrow(/f has 40 values/)
  })
})
