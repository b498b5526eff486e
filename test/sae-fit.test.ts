/**
 * The SAE fit check (engine/sae/sae-fit.ts and `plm-sae check-sae`) against an independent computation: the
 * float64 ESM2 reference for the hidden states and the logits from a layer on (test/reference), the generic
 * SAE reference for encode/decode, FVU / cosine / L0 / dead from their definitions, and the masked-LM
 * cross-entropy with the SAE reconstruction, zeros or the mean row spliced into the residue rows of layer L.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tokenize } from '../src/main/engine/esm/alphabet'
import { importEsm2 } from '../src/main/engine/esm/esm2-import'
import { Esm2Model } from '../src/main/engine/esm/esm2-model'
import {
  checkSaeFit,
  fitWarnings,
  maskProteins,
  runFitOf,
  type LayerFit,
  type RunFit
} from '../src/main/engine/sae/sae-fit'
import { LatentStore } from '../src/main/engine/store/latent-store'
import { loadSae } from '../src/main/engine/sae/sae-load'
import { referenceConfigFor, writeHfCheckpoint, type Esm2Shape, type Esm2Weights } from './fixtures/esm2-checkpoint'
import { writeGenericSae } from './fixtures/sae-checkpoints'
import { writeSafetensors } from './fixtures/safetensors-writer'
import { runCli } from './helpers/cli'
import { CPU } from './helpers/esm2-check'
import { randomProtein } from './helpers/compare'
import { tempDir } from './helpers/tmp'
import { referenceForward } from './reference/esm2-reference'
import { genericDecode, genericEncode, type GenericConfig, type GenericTensors } from './reference/sae-reference'
import { referenceForwardFrom } from './reference/steer-reference'
import { mkdirSync, writeFileSync } from 'node:fs'

const SHAPE: Esm2Shape = { layers: 4, hidden: 32, heads: 4, ffn: 64, vocab: 33, maxPositions: 1026 }
const SAE = { dIn: 32, dSae: 96 }
const tmp = tempDir('sae-fit')
const modelDir = join(tmp.dir, 'model')
let weights: Esm2Weights
let model: Esm2Model
const proteins = [randomProtein(30, 1), randomProtein(17, 2), randomProtein(44, 3)].map((s, i) => tokenize(s, `p${i}`))

beforeAll(async () => {
  weights = writeHfCheckpoint(modelDir, SHAPE, 9, { omitTiedDecoder: true })
  model = await Esm2Model.open(await importEsm2(modelDir, join(tmp.dir, 'cache')), CPU)
})
afterAll(async () => {
  await model.close()
  tmp.cleanup()
})

function logSoftmaxAt(logits: Float64Array, V: number, p: number, target: number): number {
  let max = -Infinity
  for (let v = 0; v < V; v++) max = Math.max(max, logits[p * V + v])
  let z = 0
  for (let v = 0; v < V; v++) z += Math.exp(logits[p * V + v] - max)
  return logits[p * V + target] - max - Math.log(z)
}

/** The fit statistics of one layer, from the definitions, on the float64 references. */
function referenceFit(cfg: GenericConfig, t: GenericTensors, layer: number, seed: number) {
  const c = referenceConfigFor(SHAPE)
  const H = SHAPE.hidden
  const V = SHAPE.vocab
  const rows: Float64Array[] = []
  for (const tok of proteins) {
    const h = referenceForward(weights, c, Array.from(tok)).hidden[layer]
    for (let r = 1; r < tok.length - 1; r++) rows.push(h.slice(r * H, (r + 1) * H))
  }
  const mean = new Float64Array(H)
  for (const x of rows) x.forEach((v, i) => (mean[i] += v / rows.length))
  let err = 0
  let tot = 0
  let cos = 0
  let active = 0
  const fired = new Set<number>()
  for (const x of rows) {
    const f = genericEncode(cfg, t, x)
    const xh = genericDecode(cfg, t, f, x)
    let dot = 0
    let a = 0
    let b = 0
    for (let i = 0; i < H; i++) {
      err += (x[i] - xh[i]) ** 2
      tot += (x[i] - mean[i]) ** 2
      dot += x[i] * xh[i]
      a += x[i] ** 2
      b += xh[i] ** 2
    }
    cos += dot / Math.sqrt(a * b)
    f.forEach((v, j) => {
      if (v !== 0) {
        active++
        fired.add(j)
      }
    })
  }
  const { masked, positions } = maskProteins(proteins, 0.15, seed)
  const loss = { clean: 0, spliced: 0, zero: 0, mean: 0 }
  let n = 0
  masked.forEach((m, k) => {
    const T = m.length
    const ref = referenceForward(weights, c, Array.from(m))
    const h = ref.hidden[layer]
    const variant = (row: (x: Float64Array) => ArrayLike<number>): Float64Array => {
      const out = h.slice()
      for (let r = 1; r < T - 1; r++) out.set(row(h.slice(r * H, (r + 1) * H)), r * H)
      return referenceForwardFrom(weights, c, out, T, layer)
    }
    const spliced = variant(x => genericDecode(cfg, t, genericEncode(cfg, t, x), x))
    const zero = variant(() => new Float64Array(H))
    const meaned = variant(() => mean)
    for (const p of positions[k]) {
      const target = proteins[k][p]
      loss.clean -= logSoftmaxAt(ref.logits, V, p, target)
      loss.spliced -= logSoftmaxAt(spliced, V, p, target)
      loss.zero -= logSoftmaxAt(zero, V, p, target)
      loss.mean -= logSoftmaxAt(meaned, V, p, target)
      n++
    }
  })
  for (const k of Object.keys(loss) as (keyof typeof loss)[]) loss[k] /= n
  return {
    fvu: err / tot,
    cosine: cos / rows.length,
    l0: active / rows.length,
    dead: 1 - fired.size / SAE.dSae,
    loss,
    recovered: (100 * (loss.zero - loss.spliced)) / (loss.zero - loss.clean)
  }
}

const close = (got: number, want: number, tol = 1e-4): void =>
  expect(Math.abs(got - want) / Math.max(1e-3, Math.abs(want))).toBeLessThan(tol)

describe('the SAE fit check', () => {
  it('matches an independent FVU, cosine, L0, dead fraction and spliced masked-LM loss, per layer', async () => {
    const cfg: GenericConfig = { activation: 'relu' }
    const dir = join(tmp.dir, 'sae')
    const t = writeGenericSae(dir, SAE, 4, { ...cfg, layer: 2 })
    const sae = await loadSae(dir)
    const report = await checkSaeFit(model, sae, proteins, { layers: [1, 2], seed: 5 })
    expect(report.layers.map(l => l.layer)).toEqual([1, 2])
    expect(report.declaredLayer).toBe(2)
    for (const fit of report.layers) {
      const ref = referenceFit(cfg, t, fit.layer, 5)
      close(fit.fvu, ref.fvu)
      close(fit.cosine, ref.cosine)
      close(fit.l0, ref.l0)
      expect(fit.deadFraction).toBeCloseTo(ref.dead, 10)
      close(fit.loss.clean, ref.loss.clean)
      close(fit.loss.spliced, ref.loss.spliced)
      close(fit.loss.zeroAblation, ref.loss.zero)
      close(fit.loss.meanAblation, ref.loss.mean)
      close(fit.recoveredVsZero, ref.recovered, 1e-3)
      expect(fit.loss.spliced).not.toBeCloseTo(fit.loss.clean, 3)
    }
  })

  it('gives FVU 0 and 100% recovered for an SAE that reconstructs exactly; proposes a layer when the files name none', async () => {
    // W_enc = [I, −I], W_dec = [I; −I], no biases: relu(x) − relu(−x) = x on every layer
    const H = SAE.dIn
    const enc = new Float32Array(H * 2 * H)
    const dec = new Float32Array(2 * H * H)
    for (let i = 0; i < H; i++) {
      enc[i * 2 * H + i] = 1
      enc[i * 2 * H + H + i] = -1
      dec[i * H + i] = 1
      dec[(H + i) * H + i] = -1
    }
    const dir = join(tmp.dir, 'identity')
    mkdirSync(dir, { recursive: true })
    writeSafetensors(join(dir, 'sae.safetensors'), {
      W_enc: { dtype: 'F32', shape: [H, 2 * H], data: enc },
      b_enc: { dtype: 'F32', shape: [2 * H], data: new Float32Array(2 * H) },
      W_dec: { dtype: 'F32', shape: [2 * H, H], data: dec },
      b_dec: { dtype: 'F32', shape: [H], data: new Float32Array(H) }
    })
    writeFileSync(join(dir, 'sae.json'), JSON.stringify({ activation: 'relu' }))
    const report = await checkSaeFit(model, await loadSae(dir), proteins, { layers: [0, 2, 4] })
    for (const fit of report.layers) {
      expect(fit.fvu).toBeLessThan(1e-10)
      expect(fit.cosine).toBeCloseTo(1, 6)
      close(fit.loss.spliced, fit.loss.clean, 1e-5)
      close(fit.recoveredVsZero, 100, 1e-4)
    }
    expect(report.declaredLayer).toBeUndefined()
    expect(report.proposedLayer).toBe(report.bestLayer)
    expect(report.warnings).toEqual([])
  })

  it('warns when another layer fits clearly better than the declared one, and when every layer fits poorly', () => {
    const fit = (layer: number, fvu: number): LayerFit => ({
      layer,
      fvu,
      cosine: 1 - fvu,
      l0: 10,
      deadFraction: 0,
      denseFraction: 0,
      loss: { clean: 1, spliced: 1 + fvu, zeroAblation: 3, meanAblation: 2 },
      recoveredVsZero: 100 * (1 - fvu / 2),
      recoveredVsMean: 100 * (1 - fvu)
    })
    expect(fitWarnings([fit(3, 0.3), fit(4, 0.1)], 3)).toEqual([
      expect.stringMatching(
        /files say layer 3, but layer 4 fits clearly better \(layer 4: FVU 0\.100, 95\.0% .*; layer 3: FVU 0\.300/
      )
    ])
    expect(fitWarnings([fit(3, 0.15), fit(4, 0.1)], 3)).toEqual([]) // better, but not clearly
    expect(fitWarnings([fit(3, 0.3), fit(4, 0.1)], undefined)).toEqual([])
    expect(fitWarnings([fit(3, 0.7), fit(4, 0.6)], 4)).toEqual([
      expect.stringMatching(/fits poorly on every layer checked \(best layer 4: FVU 0\.600/)
    ])
  })

  it('plm-sae index checks the fit on the first proteins and stores it with the run', async () => {
    const dir = join(tmp.dir, 'index-sae')
    writeGenericSae(dir, SAE, 8, { activation: 'relu', layer: 2 })
    const seqs = [randomProtein(25, 31), randomProtein(33, 32), randomProtein(18, 33), randomProtein(40, 34)]
    const fasta = join(tmp.dir, 'index.fasta')
    writeFileSync(fasta, seqs.map((q, i) => `>sp|Q${i}|T${i}_HUMAN test\n${q}\n`).join(''))
    const db = join(tmp.dir, 'index.sqlite')
    const res = await runCli([
      'index',
      '--model',
      modelDir,
      '--sae',
      dir,
      '--input',
      fasta,
      '--db',
      db,
      '--device',
      'cpu',
      '--cache-dir',
      join(tmp.dir, 'cache'),
      '--fit-sample',
      '3'
    ])
    expect(res.code).toBe(0)
    expect(res.err).toMatch(/SAE fit at layer 2 on 3 proteins: FVU \d\.\d{3}/)
    const store = LatentStore.open(db)
    const fit = (store.runs()[0].settings as { fit: RunFit }).fit
    store.close()
    const want = runFitOf(
      await checkSaeFit(
        model,
        await loadSae(dir),
        seqs.slice(0, 3).map((q, i) => tokenize(q, `Q${i}`)),
        { layers: [2] }
      ),
      2
    )
    expect(fit).toEqual(want)
  })

  it('plm-sae check-sae prints the table, warns when every layer fits poorly, and refuses a width mismatch', async () => {
    const dir = join(tmp.dir, 'cli-sae')
    writeGenericSae(dir, SAE, 6, { activation: 'relu', layer: 3 })
    const fasta = join(tmp.dir, 'sample.fasta')
    writeFileSync(fasta, proteins.map((_, i) => `>p${i}\n${randomProtein(20 + i, 10 + i)}\n`).join(''))
    const res = await runCli([
      'check-sae',
      '--model',
      modelDir,
      '--sae',
      dir,
      '--proteins',
      fasta,
      '--layers',
      'all',
      '--device',
      'cpu',
      '--cache-dir',
      join(tmp.dir, 'cache'),
      '--quiet'
    ])
    expect(res.err).toBe('')
    expect(res.code).toBe(0)
    expect(res.out).toMatch(/SAE cli-sae \(generic, 32 → 96\) on .*: 3 proteins, 63 residues/)
    expect(res.out.split('\n').filter(l => /^\s+\d[*+ ]\s+\d/.test(l))).toHaveLength(5)
    expect(res.out).toMatch(/\* the layer the SAE's files name \(3\)/)
    expect(res.out).toMatch(/warning: the SAE fits poorly on every layer checked/)
    const json = await runCli([
      'check-sae',
      '--model',
      modelDir,
      '--sae',
      dir,
      '--proteins',
      fasta,
      '--device',
      'cpu',
      '--cache-dir',
      join(tmp.dir, 'cache'),
      '--json'
    ])
    expect(JSON.parse(json.out)).toMatchObject({ declaredLayer: 3, layers: [{ layer: 3 }] })
    const wide = join(tmp.dir, 'wide')
    writeGenericSae(wide, { dIn: 40, dSae: 8 }, 1, { activation: 'relu', layer: 2 })
    const bad = await runCli([
      'check-sae',
      '--model',
      modelDir,
      '--sae',
      wide,
      '--proteins',
      fasta,
      '--device',
      'cpu',
      '--cache-dir',
      join(tmp.dir, 'cache')
    ])
    expect(bad.code).not.toBe(0)
    expect(bad.err).toMatch(/reads vectors of width 40, but .* has hidden size 32/)
    const beyond = await runCli([
      'check-sae',
      '--model',
      modelDir,
      '--sae',
      dir,
      '--proteins',
      fasta,
      '--layers',
      '9',
      '--device',
      'cpu',
      '--cache-dir',
      join(tmp.dir, 'cache')
    ])
    expect(beyond.err).toMatch(/layer 9 does not exist: .* has layers 0 \(embeddings\) to 4/)
  })
})
