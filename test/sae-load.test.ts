import { createHash } from 'node:crypto'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadSae, saeLayerFor } from '../src/main/engine/sae/sae-load'
import { decodeRows, encodeRows, rowNorms } from '../src/main/engine/sae/sae-math'
import type { SaeWeights } from '../src/main/engine/sae/sae-weights'
import { createRng } from './fixtures/esm2-checkpoint'
import {
  writeGenericSae,
  writeInterplmSae,
  writePreprintSae,
  type GenericFixtureConfig
} from './fixtures/sae-checkpoints'
import { writeSafetensors } from './fixtures/safetensors-writer'
import { relativeError } from './helpers/compare'
import { tempDir } from './helpers/tmp'
import {
  genericDecode,
  genericEncode,
  interplmDecode,
  interplmEncode,
  preprintDecode,
  preprintEncode,
  type GenericTensors
} from './reference/sae-reference'

const SHAPE = { dIn: 16, dSae: 48 }
const ROWS = 6
const tmp = tempDir('sae-load')
afterAll(() => tmp.cleanup())
let counter = 0
const fresh = (name: string): string => join(tmp.dir, `${counter++}-${name}`)

function inputs(seed: number, rows = ROWS, dIn = SHAPE.dIn): Float32Array {
  const rng = createRng(seed)
  const x = new Float32Array(rows * dIn)
  for (let i = 0; i < x.length; i++) x[i] = rng.normal() * 1.5 + 0.2
  return x
}

/** Checks the product's encode/decode of a loaded SAE against reference functions of one row. */
function checkAgainst(
  sae: SaeWeights,
  encodeRef: (x: Float32Array) => Float64Array,
  decodeRef: (f: Float64Array, x: Float32Array) => Float64Array,
  tol = 1e-5
): void {
  const x = inputs(11, ROWS, sae.dIn)
  const f = encodeRows(sae, x, ROWS)
  const xHat = decodeRows(sae, f, ROWS, rowNorms(sae, x, ROWS))
  let fired = 0
  for (let r = 0; r < ROWS; r++) {
    const xr = x.subarray(r * sae.dIn, (r + 1) * sae.dIn)
    const fRef = encodeRef(xr)
    expect(relativeError(f.subarray(r * sae.dSae, (r + 1) * sae.dSae), fRef)).toBeLessThan(tol)
    fired += fRef.filter(v => v > 0).length
    expect(relativeError(xHat.subarray(r * sae.dIn, (r + 1) * sae.dIn), decodeRef(fRef, xr))).toBeLessThan(tol)
  }
  expect(fired).toBeGreaterThan(0)
  expect(fired).toBeLessThan(ROWS * sae.dSae)
}

describe('the preprint format', () => {
  for (const variant of [
    { nested: true, weights: 'safetensors' as const, dtype: 'F32' as const },
    { nested: false, weights: 'bin' as const, dtype: 'F32' as const },
    { nested: true, weights: 'safetensors' as const, dtype: 'F16' as const }
  ]) {
    it(`loads ${variant.nested ? 'a nested' : 'a flat'} config with ${variant.weights} (${variant.dtype}) and encodes like the reference`, async () => {
      const dir = fresh('preprint')
      const t = writePreprintSae(dir, SHAPE, 3, { block: 3, ...variant })
      const sae = await loadSae(dir)
      expect(sae.format).toBe('preprint')
      expect(sae.layer).toBe(4) // esm.encoder.layer[3].output = hidden_states[4]
      expect([sae.dIn, sae.dSae]).toEqual([SHAPE.dIn, SHAPE.dSae])
      expect(sae.activation.kind).toBe('relu')
      checkAgainst(
        sae,
        x => preprintEncode(t, x),
        f => preprintDecode(t, f)
      )
    })
  }

  it('has no layer when the config does not name one', async () => {
    const dir = fresh('preprint-nolayer')
    writePreprintSae(dir, SHAPE, 4, {})
    expect((await loadSae(dir)).layer).toBeUndefined()
  })

  it('reports a config that disagrees with the tensors', async () => {
    const dir = fresh('preprint-bad')
    writePreprintSae(dir, SHAPE, 5, { block: 3, nested: false })
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, act_size: 320 }))
    await expect(loadSae(dir)).rejects.toThrow(
      /tensor "W_enc" has shape \[16, 48\], expected \[d_in=320, d_sae=48\].*config\.json act_size\/dict_size/
    )
  })

  it('recognises a model folder passed as an SAE', async () => {
    const dir = fresh('not-sae')
    writePreprintSae(dir, SHAPE, 5, {})
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'esm', hidden_size: 320 }))
    await expect(loadSae(dir)).rejects.toThrow(/neither "act_size" nor "dict_size".*looks like a model folder/)
  })
})

describe('the InterPLM format', () => {
  for (const opts of [
    { normalized: true, normalizeToSqrtD: true },
    { normalized: true, normalizeToSqrtD: false },
    { normalized: false, normalizeToSqrtD: true },
    { normalized: true, omitRescale: true }
  ]) {
    it(`loads ${JSON.stringify(opts)} and encodes/decodes like InterPLM`, async () => {
      const root = fresh('interplm')
      const { file, tensors } = writeInterplmSae(root, 3, SHAPE, 7, opts)
      const sae = await loadSae(join(root, 'layer_3'))
      expect(sae.format).toBe('interplm')
      expect(sae.source).toBe(file)
      expect(sae.layer).toBe(3)
      expect(sae.inputNorm).toBe(opts.normalizeToSqrtD === true ? 'sqrt-d' : 'none')
      checkAgainst(
        sae,
        x => interplmEncode(tensors, x, opts.normalized),
        (f, x) => interplmDecode(tensors, f, x, opts.normalized)
      )
      if (opts.normalized && !opts.omitRescale) {
        // the normalized form reports features in units of each feature's max: not the raw activations
        const raw = interplmEncode(tensors, inputs(1).subarray(0, SHAPE.dIn), false)
        const norm = interplmEncode(tensors, inputs(1).subarray(0, SHAPE.dIn), true)
        expect(relativeError(norm, raw)).toBeGreaterThan(0.01)
      }
    })
  }

  it('picks a layer out of the top folder, a file directly, and the variant', async () => {
    const root = fresh('interplm-root')
    writeInterplmSae(root, 1, SHAPE, 8, { normalized: true })
    const l4 = writeInterplmSae(root, 4, SHAPE, 9, { normalized: true })
    const l4u = writeInterplmSae(root, 4, SHAPE, 10, { normalized: false })
    await expect(loadSae(root)).rejects.toThrow(
      /holds 2 SAEs for layers 1, 4; choose one \(--sae-file NAME or --sae-layer N/
    )
    await expect(loadSae(root, { layer: 2 })).rejects.toThrow(/no SAE for layer 2 here; there are layers 1, 4/)
    expect((await loadSae(root, { layer: 4 })).source).toBe(l4.file)
    expect((await loadSae(root, { layer: 4, interplmVariant: 'unnormalized' })).source).toBe(l4u.file)
    const direct = await loadSae(l4u.file)
    expect(direct.layer).toBe(4)
    expect([...direct.featureScale].every(v => v === 1)).toBe(true)
  })
})

describe('the generic format', () => {
  const cases: {
    name: string
    cfg: GenericFixtureConfig
    opts?: { withPreBias?: boolean; thresholdTensor?: boolean; dtype?: 'BF16' }
  }[] = [
    { name: 'relu', cfg: { activation: 'relu', layer: 2 } },
    {
      name: 'relu, b_pre, √d normalization, bf16',
      cfg: { activation: 'relu', normalize_to_sqrt_d: true },
      opts: { withPreBias: true, dtype: 'BF16' }
    },
    { name: 'relu without input centring', cfg: { activation: 'relu', apply_b_dec_to_input: false } },
    { name: 'topk', cfg: { activation: 'topk', k: 4, layer: 1 } },
    { name: 'jumprelu, threshold tensor', cfg: { activation: 'jumprelu' }, opts: { thresholdTensor: true } },
    { name: 'jumprelu, scalar threshold', cfg: { activation: 'jumprelu', threshold: 0.4 } }
  ]
  for (const [n, c] of cases.entries()) {
    it(`loads ${c.name} and encodes like the reference`, async () => {
      const dir = fresh('generic')
      const t: GenericTensors = writeGenericSae(dir, SHAPE, 20 + n, c.cfg, c.opts)
      const sae = await loadSae(dir)
      expect(sae.format).toBe('generic')
      expect(sae.layer).toBe(c.cfg.layer)
      expect(sae.activation.kind).toBe(c.cfg.activation)
      checkAgainst(
        sae,
        x => genericEncode(c.cfg, t, x),
        (f, x) => genericDecode(c.cfg, t, f, x)
      )
    })
  }

  it('explains what is wrong with a bad file', async () => {
    const dir = fresh('generic-bad')
    writeGenericSae(dir, SHAPE, 1, { activation: 'topk' })
    await expect(loadSae(dir)).rejects.toThrow(/a topk SAE needs "k"/)
    writeFileSync(join(dir, 'sae.json'), JSON.stringify({ activation: 'relu' }))
    writeSafetensors(join(dir, 'sae.safetensors'), {
      W_enc: { dtype: 'F32', shape: [16, 48], data: new Float32Array(16 * 48) },
      W_dec: { dtype: 'F32', shape: [48, 16], data: new Float32Array(16 * 48) },
      b_dec: { dtype: 'F32', shape: [16], data: new Float32Array(16) }
    })
    await expect(loadSae(dir)).rejects.toThrow(
      /sae\.safetensors: tensor "b_enc" is missing; a generic .* SAE needs it \(found: .*W_enc/
    )
    writeSafetensors(join(dir, 'sae.safetensors'), {
      W_enc: { dtype: 'F32', shape: [16, 48], data: new Float32Array(16 * 48) },
      b_enc: { dtype: 'F32', shape: [48], data: new Float32Array(48) },
      W_dec: { dtype: 'F32', shape: [16, 48], data: new Float32Array(16 * 48) },
      b_dec: { dtype: 'F32', shape: [16], data: new Float32Array(16) }
    })
    await expect(loadSae(dir)).rejects.toThrow(/tensor "W_dec" has shape \[16, 48\], expected \[d_sae=48, d_in=16\]/)
    rmSync(join(dir, 'sae.safetensors'))
    await expect(loadSae(dir)).rejects.toThrow(/sae\.json is there but sae\.safetensors is missing/)
    await expect(loadSae(join(tmp.dir, 'nowhere'))).rejects.toThrow(/no such file or folder/)
    await expect(loadSae(tmp.dir)).rejects.toThrow(
      /not a recognised SAE\. What each format looked for, and what it found:\n {2}- Generic \(this app\): looks for sae\.json \+ sae\.safetensors; found nothing of its layout\n(.|\n)*SAELens: looks for cfg\.json/
    )
  })
})

describe('identity and fit', () => {
  it('hashes the weight files: the same files give the same hash, other weights another', async () => {
    const a = fresh('hash-a')
    const b = fresh('hash-b')
    writeGenericSae(a, SHAPE, 1, { activation: 'relu' })
    writeGenericSae(b, SHAPE, 2, { activation: 'relu' })
    const sa = await loadSae(a)
    expect(sa.hash).toMatch(/^[0-9a-f]{64}$/)
    expect((await loadSae(a)).hash).toBe(sa.hash)
    expect((await loadSae(b)).hash).not.toBe(sa.hash)
    const expected = createHash('sha256')
      .update(readFileSync(join(a, 'sae.safetensors')))
      .update(readFileSync(join(a, 'sae.json')))
      .digest('hex')
    expect(sa.hash).toBe(expected)
  })

  it('checks width and layer against the model', async () => {
    const dir = fresh('fit')
    writePreprintSae(dir, SHAPE, 3, { block: 3 })
    const sae = await loadSae(dir)
    const model = { name: 'esm2-test', hiddenSize: SHAPE.dIn, numLayers: 6 }
    expect(saeLayerFor(sae, model)).toBe(4)
    expect(saeLayerFor(sae, model, 4)).toBe(4)
    expect(() => saeLayerFor(sae, model, 5)).toThrow(
      /trained on layer 4 \(its files say so\), but layer 5 was requested/
    )
    expect(() => saeLayerFor(sae, { ...model, hiddenSize: 320 })).toThrow(
      /reads vectors of width 16, but esm2-test has hidden size 320/
    )
    expect(() => saeLayerFor(sae, { ...model, numLayers: 3 })).toThrow(
      /reads layer 4, but esm2-test has layers 0 \(embeddings\) to 3/
    )
    const noLayer = { ...sae, layer: undefined }
    expect(() => saeLayerFor(noLayer, model)).toThrow(/does not say which layer it reads; pass it \(--sae-layer N/)
    expect(saeLayerFor(noLayer, model, 2)).toBe(2)
  })
})
