/**
 * The chained ESM2 → SAE graph (LatentExtractor) against the float64 references: the ESM2 reference
 * (test/reference/esm2-reference.ts) for the hidden state, then the SAE reference of the source format.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tokenize } from '../src/main/engine/esm/alphabet'
import { importEsm2, type ImportedEsm2 } from '../src/main/engine/esm/esm2-import'
import { Esm2Model, type SequenceInput } from '../src/main/engine/esm/esm2-model'
import { LatentExtractor, type DenseLatents } from '../src/main/engine/sae/latent-extractor'
import { loadSae } from '../src/main/engine/sae/sae-load'
import { encodeRows } from '../src/main/engine/sae/sae-math'
import type { SaeWeights } from '../src/main/engine/sae/sae-weights'
import { densify, type SparseLatents } from '../src/main/engine/sae/sparse-latents'
import { referenceConfigFor, writeHfCheckpoint, type Esm2Weights } from './fixtures/esm2-checkpoint'
import { writeGenericSae, writeInterplmSae, writePreprintSae } from './fixtures/sae-checkpoints'
import { randomProtein, relativeError } from './helpers/compare'
import { tempDir } from './helpers/tmp'
import { referenceForward } from './reference/esm2-reference'
import { genericEncode, interplmEncode, preprintEncode } from './reference/sae-reference'

const CPU = { device: 'cpu' as const, deviceId: 0, threads: 2 }
const TOL = 1e-4

async function collect<T extends { id: string }>(gen: AsyncGenerator<T>): Promise<Map<string, T>> {
  const out = new Map<string, T>()
  for await (const o of gen) {
    expect(out.has(o.id)).toBe(false)
    out.set(o.id, o)
  }
  return out
}

/** Reference latents [T, dSae] of a token sequence: ESM2 reference hidden state, then `encodeRef` per row. */
function referenceLatents(
  weights: Esm2Weights,
  shape: 'tiny' | '8M',
  tokens: Int32Array,
  layer: number,
  dSae: number,
  encodeRef: (x: Float64Array) => Float64Array
): Float64Array {
  const ref = referenceForward(weights, referenceConfigFor(shape), Array.from(tokens))
  const hidden = ref.hidden[layer]
  const H = hidden.length / tokens.length
  const out = new Float64Array(tokens.length * dSae)
  for (let t = 0; t < tokens.length; t++) out.set(encodeRef(hidden.subarray(t * H, (t + 1) * H)), t * dSae)
  return out
}

function checkSparseShape(s: SparseLatents, rows: number, dSae: number): void {
  expect(s.rows).toBe(rows)
  expect(s.width).toBe(dSae)
  expect(s.indptr.length).toBe(rows + 1)
  expect(s.indptr[rows]).toBe(s.features.length)
  for (let r = 0; r < rows; r++) {
    for (let k = s.indptr[r] + 1; k < s.indptr[r + 1]; k++) expect(s.features[k]).toBeGreaterThan(s.features[k - 1])
  }
  for (const v of s.values) expect(v).toBeGreaterThan(0)
}

describe('LatentExtractor on the tiny ESM2 shape', () => {
  const tmp = tempDir('sae-extract')
  let weights: Esm2Weights
  let imported: ImportedEsm2
  let model: Esm2Model
  const seqs = [
    { id: 'a', seq: randomProtein(23, 1) },
    { id: 'masked', seq: randomProtein(12, 2) + '<mask>' + randomProtein(9, 3) },
    { id: 'b', seq: randomProtein(57, 4) },
    { id: 'one', seq: 'M' }
  ]
  const inputs = (): SequenceInput[] => seqs.map(s => ({ id: s.id, tokens: tokenize(s.seq, s.id) }))

  beforeAll(async () => {
    weights = writeHfCheckpoint(join(tmp.dir, 'ckpt'), 'tiny', 5, { omitTiedDecoder: true })
    imported = await importEsm2(join(tmp.dir, 'ckpt'), join(tmp.dir, 'cache'))
    model = await Esm2Model.open(imported, CPU)
  })
  afterAll(async () => {
    await model?.close()
    tmp.cleanup()
  })

  const shape = { dIn: 32, dSae: 96 }
  const formats: {
    name: string
    make: (dir: string) => { path: string; layer: number; ref: (x: Float64Array) => Float64Array }
  }[] = [
    {
      name: 'preprint (block 1 → layer 2)',
      make: dir => {
        const t = writePreprintSae(dir, shape, 31, { block: 1 })
        return { path: dir, layer: 2, ref: x => preprintEncode(t, x) }
      }
    },
    {
      name: 'InterPLM normalized with √d scaling (layer 3 = the last, after the final LayerNorm)',
      make: dir => {
        const { tensors } = writeInterplmSae(dir, 3, shape, 32, { normalized: true, normalizeToSqrtD: true })
        return { path: join(dir, 'layer_3'), layer: 3, ref: x => interplmEncode(tensors, x, true) }
      }
    },
    {
      name: 'generic topk at layer 1',
      make: dir => {
        const cfg = { activation: 'topk' as const, k: 7, layer: 1 }
        const t = writeGenericSae(dir, shape, 33, cfg)
        return { path: dir, layer: 1, ref: x => genericEncode(cfg, t, x) }
      }
    },
    {
      name: 'generic jumprelu with a pre-bias at layer 0 (embeddings)',
      make: dir => {
        const cfg = { activation: 'jumprelu' as const, layer: 0 }
        const t = writeGenericSae(dir, shape, 34, cfg, { thresholdTensor: true, withPreBias: true })
        return { path: dir, layer: 0, ref: x => genericEncode(cfg, t, x) }
      }
    }
  ]

  for (const [n, f] of formats.entries()) {
    it(`sparse and dense latents match the references: ${f.name}`, async () => {
      const made = f.make(join(tmp.dir, `sae-${n}`))
      const sae = await loadSae(made.path)
      const ex = await LatentExtractor.open(model, sae)
      expect(ex.layer).toBe(made.layer)
      expect(ex.dSae).toBe(shape.dSae)
      try {
        const sparse = await collect(ex.extract(inputs()))
        const dense = await collect(ex.dense(inputs()))
        let fired = 0
        for (const s of seqs) {
          const tokens = tokenize(s.seq, s.id)
          const T = tokens.length
          const ref = referenceLatents(weights, 'tiny', tokens, made.layer, shape.dSae, made.ref)
          const d = dense.get(s.id) as DenseLatents
          expect([d.rows, d.width]).toEqual([T, shape.dSae])
          expect(relativeError(d.values, ref), `${s.id} dense`).toBeLessThan(TOL)
          const sp = sparse.get(s.id) as SparseLatents
          checkSparseShape(sp, T - 2, shape.dSae)
          const residueRef = ref.subarray(shape.dSae, (T - 1) * shape.dSae)
          expect(relativeError(densify(sp), residueRef), `${s.id} sparse`).toBeLessThan(TOL)
          fired += sp.features.length
        }
        expect(fired).toBeGreaterThan(0)
      } finally {
        await ex.close()
      }
    })
  }

  it('stitches windowed sequences like the model does, and streams many sequences from an async source', async () => {
    const dir = join(tmp.dir, 'sae-window')
    writeGenericSae(dir, shape, 40, { activation: 'relu', layer: 2 })
    const sae: SaeWeights = await loadSae(dir)
    const windowed = await Esm2Model.open(imported, CPU, 16)
    const ex = await LatentExtractor.open(windowed, sae, {
      batching: { maxBatchTokens: 64, maxBatchSize: 4 },
      chunkTokens: 50
    })
    const long = [
      { id: 'w40', seq: randomProtein(40, 7) },
      { id: 'w16', seq: randomProtein(16, 8) },
      { id: 'w61', seq: randomProtein(61, 9) },
      ...Array.from({ length: 12 }, (_, i) => ({ id: `s${i}`, seq: randomProtein(3 + i * 2, 20 + i) }))
    ]
    async function* source(): AsyncGenerator<SequenceInput> {
      for (const s of long) yield { id: s.id, tokens: tokenize(s.seq, s.id) }
    }
    try {
      const progress: number[] = []
      const sparse = await collect(ex.extract(source(), { onProgress: p => progress.push(p.residues) }))
      const dense = await collect(ex.dense(source()))
      const hidden = await collect(windowed.forward(source(), { hidden: [2], logits: false }))
      expect(sparse.size).toBe(long.length)
      expect(progress[progress.length - 1]).toBe(long.reduce((n, s) => n + s.seq.length, 0))
      for (const s of long) {
        const T = s.seq.length + 2
        const expected = encodeRows(sae, hidden.get(s.id)!.hidden.get(2)!, T)
        expect(relativeError(dense.get(s.id)!.values, expected), `${s.id} dense`).toBeLessThan(1e-5)
        const sp = sparse.get(s.id)!
        checkSparseShape(sp, T - 2, shape.dSae)
        expect(
          relativeError(densify(sp), expected.subarray(shape.dSae, (T - 1) * shape.dSae)),
          `${s.id} sparse`
        ).toBeLessThan(1e-5)
      }
    } finally {
      await ex.close()
      await windowed.close()
    }
  })

  it('refuses an SAE of another width or layer, and cancels', async () => {
    const wide = join(tmp.dir, 'sae-wide')
    writeGenericSae(wide, { dIn: 48, dSae: 16 }, 1, { activation: 'relu', layer: 2 })
    await expect(LatentExtractor.open(model, await loadSae(wide))).rejects.toThrow(
      /reads vectors of width 48, but .* has hidden size 32/
    )
    const deep = join(tmp.dir, 'sae-deep')
    writeGenericSae(deep, shape, 1, { activation: 'relu', layer: 5 })
    await expect(LatentExtractor.open(model, await loadSae(deep))).rejects.toThrow(
      /reads layer 5, but .* has layers 0 \(embeddings\) to 3/
    )
    await expect(LatentExtractor.open(model, await loadSae(deep), { layer: 2 })).rejects.toThrow(
      /trained on layer 5 .* but layer 2 was requested/
    )
    const ok = join(tmp.dir, 'sae-ok')
    writeGenericSae(ok, shape, 1, { activation: 'relu' })
    const ex = await LatentExtractor.open(model, await loadSae(ok), {
      layer: 1,
      batching: { maxBatchTokens: 32, maxBatchSize: 1 }
    })
    const controller = new AbortController()
    let seen = 0
    await expect(
      (async () => {
        for await (const _ of ex.extract(inputs(), { signal: controller.signal })) {
          seen++
          controller.abort()
        }
      })()
    ).rejects.toThrow('cancelled')
    expect(seen).toBe(1)
    await ex.close()
  })
})

describe('LatentExtractor on the 8M shape with a 10,240-latent SAE', () => {
  const tmp = tempDir('sae-extract-8m')
  afterAll(() => tmp.cleanup())

  it('matches the references (preprint format, layer 4)', async () => {
    const weights = writeHfCheckpoint(join(tmp.dir, 'ckpt'), '8M', 12, { omitTiedDecoder: true })
    const imported = await importEsm2(join(tmp.dir, 'ckpt'), join(tmp.dir, 'cache'))
    const model = await Esm2Model.open(imported, CPU)
    const t = writePreprintSae(join(tmp.dir, 'sae'), { dIn: 320, dSae: 10240 }, 13, { block: 3 })
    const sae = await loadSae(join(tmp.dir, 'sae'))
    const ex = await LatentExtractor.open(model, sae)
    try {
      expect(ex.layer).toBe(4)
      const seqs = [
        { id: 'p1', tokens: tokenize(randomProtein(30, 1), 'p1') },
        { id: 'p2', tokens: tokenize(randomProtein(17, 2), 'p2') }
      ]
      const sparse = await collect(ex.extract(seqs))
      for (const s of seqs) {
        const ref = referenceLatents(weights, '8M', s.tokens, 4, 10240, x => preprintEncode(t, x))
        const sp = sparse.get(s.id)!
        checkSparseShape(sp, s.tokens.length - 2, 10240)
        expect(relativeError(densify(sp), ref.subarray(10240, (s.tokens.length - 1) * 10240))).toBeLessThan(TOL)
      }
    } finally {
      await ex.close()
      await model.close()
    }
  })
})
