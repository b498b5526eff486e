/**
 * The ONNX ESM2 (checkpoint import → graphs → ONNX Runtime on the CPU) against the independent float64
 * reference of Hugging Face EsmForMaskedLM, on random-weight checkpoints in the real file format.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { statSync } from 'node:fs'
import { writeHfCheckpoint, referenceConfigFor, type Esm2Weights } from './fixtures/esm2-checkpoint'
import { referenceForward } from './reference/esm2-reference'
import { relativeError, randomProtein } from './helpers/compare'
import { tempDir } from './helpers/tmp'
import { importEsm2, type ImportedEsm2 } from '../src/main/engine/esm/esm2-import'
import { Esm2Model, nextBatchSize, type SequenceOutput } from '../src/main/engine/esm/esm2-model'
import { tokenize } from '../src/main/engine/esm/alphabet'

const CPU = { device: 'cpu' as const, deviceId: 0, threads: 2 }
const TOL = 1e-4

async function collect(gen: AsyncGenerator<SequenceOutput>): Promise<Map<string, SequenceOutput>> {
  const out = new Map<string, SequenceOutput>()
  for await (const o of gen) out.set(o.id, o)
  return out
}

describe('ESM2 8M shape against the reference', () => {
  const tmp = tempDir('esm8m')
  let weights: Esm2Weights
  let imported: ImportedEsm2
  let model: Esm2Model

  beforeAll(async () => {
    weights = writeHfCheckpoint(join(tmp.dir, 'ckpt'), '8M', 11, { omitTiedDecoder: true })
    imported = await importEsm2(join(tmp.dir, 'ckpt'), join(tmp.dir, 'cache'))
    model = await Esm2Model.open(imported, CPU)
  })
  afterAll(async () => {
    await model?.close()
    tmp.cleanup()
  })

  it('reads the 8M shape and names the checkpoint by its folder, not by the published model of that shape', () => {
    expect(imported.name).toBe('ckpt')
    expect(imported.config).toMatchObject({ numLayers: 6, hiddenSize: 320, numHeads: 20, intermediateSize: 1280 })
  })

  it('matches logits and every hidden state, with <mask> tokens, in a batch of mixed lengths', async () => {
    const seqs = [
      { id: 'short', seq: randomProtein(23, 1) },
      {
        id: 'masked',
        seq: randomProtein(40, 2).slice(0, 10) + '<mask>' + randomProtein(40, 3).slice(0, 20) + '<mask><mask>' + 'ACDE'
      },
      { id: 'long', seq: randomProtein(97, 4) }
    ]
    const layers = [0, 1, 2, 3, 4, 5, 6]
    const outs = await collect(
      model.forward(
        seqs.map(s => ({ id: s.id, tokens: tokenize(s.seq, s.id) })),
        { hidden: layers, logits: true }
      )
    )
    for (const s of seqs) {
      const tokens = Array.from(tokenize(s.seq, s.id))
      const ref = referenceForward(weights, referenceConfigFor('8M'), tokens)
      const got = outs.get(s.id)!
      expect(got.length).toBe(tokens.length)
      for (const l of layers)
        expect(relativeError(got.hidden.get(l)!, ref.hidden[l]), `${s.id} layer ${l}`).toBeLessThan(TOL)
      expect(relativeError(got.logits!, ref.logits), `${s.id} logits`).toBeLessThan(TOL)
    }
  })

  it('stops at the requested layer, and the rest of the model from that layer gives the same logits', async () => {
    const tokens = tokenize(randomProtein(60, 9), 'p')
    const [prefix] = await model.runBatch([tokens], { hidden: [4], logits: false })
    const layer4Graph = model.graphPath(model.spec({ hidden: [4], logits: false }))
    // a prefix graph to layer 4 carries the weights of blocks 1-4 only (block 5 is layer.4.* in our names)
    const { readFileSync } = await import('node:fs')
    const text = readFileSync(layer4Graph).toString('latin1')
    expect(text).toContain('layer.3.fc2.w')
    expect(text).not.toContain('layer.4.fc1.w')
    expect(text).not.toContain('lm.decoder')
    const [full] = await model.runBatch([tokens], { hidden: [4], logits: true })
    expect(relativeError(prefix.hidden.get(4)!, full.hidden.get(4)!)).toBeLessThan(1e-6)
    const [suffix] = await model.runBatch(
      [tokens],
      { hidden: [], logits: true },
      { from: 4, hiddenIn: [prefix.hidden.get(4)!] }
    )
    expect(relativeError(suffix.logits!, full.logits!)).toBeLessThan(1e-5)
    const ref = referenceForward(weights, referenceConfigFor('8M'), Array.from(tokens))
    expect(relativeError(suffix.logits!, ref.logits)).toBeLessThan(TOL)
  })
})

describe('ESM2 small shape: batching, windowing, formats, cache', () => {
  const tmp = tempDir('esmtiny')
  let weights: Esm2Weights
  let imported: ImportedEsm2
  let model: Esm2Model

  beforeAll(async () => {
    weights = writeHfCheckpoint(join(tmp.dir, 'ckpt'), 'tiny', 5)
    imported = await importEsm2(join(tmp.dir, 'ckpt'), join(tmp.dir, 'cache'))
    model = await Esm2Model.open(imported, CPU)
  })
  afterAll(async () => {
    await model?.close()
    tmp.cleanup()
  })

  it('gives a sequence the same results alone and in a batch with longer and shorter ones', async () => {
    const target = { id: 't', tokens: tokenize(randomProtein(50, 21), 't') }
    const others = [5, 80, 33, 120, 49].map((n, i) => ({
      id: `o${i}`,
      tokens: tokenize(randomProtein(n, 30 + i), `o${i}`)
    }))
    const alone = await collect(model.forward([target], { hidden: [2], logits: true }))
    const mixed = await collect(
      model.forward(
        [...others, target],
        { hidden: [2], logits: true },
        { batching: { maxBatchTokens: 100000, maxBatchSize: 64 } }
      )
    )
    expect(relativeError(mixed.get('t')!.logits!, alone.get('t')!.logits!)).toBeLessThan(1e-5)
    expect(relativeError(mixed.get('t')!.hidden.get(2)!, alone.get('t')!.hidden.get(2)!)).toBeLessThan(1e-5)
  })

  it('runs a 1,500-residue sequence in overlapping windows, stitched by the nearest-centre rule', async () => {
    const W = 1022
    const seq = randomProtein(1500, 77)
    const tokens = tokenize(seq, 'big')
    const [out] = [
      ...(await collect(model.forward([{ id: 'big', tokens }], { hidden: [1, 3], logits: true }))).values()
    ]
    expect(out.length).toBe(1502)
    // Independent expectation: windows of W residues with evenly spaced starts; each residue from the window
    // whose centre is nearest (ties to the earlier); <cls> from the first, <eos> from the last.
    const L = 1500
    const n = Math.ceil((L - W) / (W / 2)) + 1
    const starts = Array.from({ length: n }, (_, i) => Math.round((i * (L - W)) / (n - 1)))
    const refs = starts.map(s =>
      referenceForward(weights, referenceConfigFor('tiny'), [0, ...Array.from(tokens.subarray(1 + s, 1 + s + W)), 2])
    )
    const H = 32
    const expectRows = (pick: (k: number) => Float64Array, width: number): Float64Array => {
      const e = new Float64Array(1502 * width)
      e.set(pick(0).subarray(0, width), 0)
      for (let r = 0; r < L; r++) {
        let best = 0
        for (let k = 1; k < n; k++)
          if (Math.abs(r - (starts[k] + W / 2)) < Math.abs(r - (starts[best] + W / 2))) best = k
        const row = r - starts[best] + 1
        e.set(pick(best).subarray(row * width, (row + 1) * width), (r + 1) * width)
      }
      const last = pick(n - 1)
      e.set(last.subarray(last.length - width), 1501 * width)
      return e
    }
    expect(
      relativeError(
        out.logits!,
        expectRows(k => refs[k].logits, 33)
      )
    ).toBeLessThan(TOL)
    expect(
      relativeError(
        out.hidden.get(3)!,
        expectRows(k => refs[k].hidden[3], H)
      )
    ).toBeLessThan(TOL)
    expect(
      relativeError(
        out.hidden.get(1)!,
        expectRows(k => refs[k].hidden[1], H)
      )
    ).toBeLessThan(TOL)
  })

  it('imports a checkpoint once: the second import finds the cache entry and converts nothing', async () => {
    const weightsFile = join(imported.dir, 'weights.bin')
    const before = statSync(weightsFile).mtimeMs
    const t0 = performance.now()
    const again = await importEsm2(join(tmp.dir, 'ckpt'), join(tmp.dir, 'cache'))
    const ms = performance.now() - t0
    expect(again.dir).toBe(imported.dir)
    expect(statSync(weightsFile).mtimeMs).toBe(before)
    expect(ms).toBeGreaterThanOrEqual(0) // timing is reported by the benchmark, not asserted here
  })

  it('reads F16 and BF16 checkpoints', async () => {
    for (const dtype of ['F16', 'BF16'] as const) {
      const dir = join(tmp.dir, `ckpt-${dtype}`)
      const w = writeHfCheckpoint(dir, 'tiny', 6, { dtype })
      const m = await Esm2Model.open(await importEsm2(dir, join(tmp.dir, 'cache')), CPU)
      const tokens = tokenize(randomProtein(30, 8), 'x')
      const [o] = await m.runBatch([tokens], { hidden: [3], logits: true })
      const ref = referenceForward(w, referenceConfigFor('tiny'), Array.from(tokens))
      expect(relativeError(o.logits!, ref.logits), dtype).toBeLessThan(TOL)
      await m.close()
    }
  })
})

describe('batch planning', () => {
  const plan = (lengths: number[], batching: Parameters<typeof nextBatchSize>[2]): number[][] => {
    const pieces = lengths.map(n => ({ tokens: new Int32Array(n) }))
    const out: number[][] = []
    for (let i = 0; i < pieces.length;) {
      const n = nextBatchSize(pieces, i, batching)
      out.push(lengths.slice(i, i + n))
      i += n
    }
    return out
  }

  it('packs length-sorted pieces up to the token and size limits', () => {
    expect(plan([100, 90, 80, 50, 50, 10], { maxBatchTokens: 300, maxBatchSize: 8 })).toEqual([
      [100, 90, 80],
      [50, 50, 10]
    ])
    expect(plan([100, 90, 80], { maxBatchTokens: 1000, maxBatchSize: 2 })).toEqual([[100, 90], [80]])
    expect(plan([500], { maxBatchTokens: 100, maxBatchSize: 8 })).toEqual([[500]])
  })

  it('runs pieces of soloTokens or more alone, or only with pieces of exactly their length (no padding)', () => {
    expect(plan([300, 300, 300, 200, 63, 40, 40], { maxBatchTokens: 700, maxBatchSize: 8, soloTokens: 64 })).toEqual([
      [300, 300],
      [300],
      [200],
      [63, 40, 40]
    ])
  })
})
