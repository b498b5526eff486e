/**
 * Every SAE format of the registry, each from a fixture written in its authors' exact layout, against an
 * independent reference written from their published definition (test/reference/sae-reference.ts); the
 * conversion of each to the generic layout; folders of several SAEs; the no-match error; NaN weights; and
 * the README's table of formats against the registry.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { SAE_FILE_FORMATS } from '../src/shared/library-types'
import { formatsMarkdownTable, SAE_FORMATS } from '../src/main/engine/sae/sae-formats'
import { saveGenericSae } from '../src/main/engine/sae/sae-generic'
import { inspectSae, loadSae, type LoadSaeOptions } from '../src/main/engine/sae/sae-load'
import { decodeRows, encodeRows, rowNorms } from '../src/main/engine/sae/sae-math'
import type { SaeWeights } from '../src/main/engine/sae/sae-weights'
import { createRng } from './fixtures/esm2-checkpoint'
import {
  randomDictionary,
  writeDictionaryLearningTrainer,
  writeInterplmClass,
  writeInterprotSae,
  writeLightningCheckpoint,
  writePreprintTrainingSave,
  writeSaelensSae,
  type DictionaryFixtureClass
} from './fixtures/sae-checkpoints'
import { writeTorchCheckpoint } from './fixtures/torch-writer'
import { relativeError } from './helpers/compare'
import { tempDir } from './helpers/tmp'
import {
  dictionaryForward,
  interprotForward,
  preprintDecode,
  preprintEncode,
  saelensForward
} from './reference/sae-reference'

const SHAPE = { dIn: 16, dSae: 48 }
const ROWS = 8
const tmp = tempDir('sae-formats')
afterAll(() => tmp.cleanup())
let counter = 0
const fresh = (name: string): string => join(tmp.dir, `${counter++}-${name}`)

function inputs(seed: number, rows = ROWS, dIn = SHAPE.dIn): Float32Array {
  const rng = createRng(seed)
  const x = new Float32Array(rows * dIn)
  for (let i = 0; i < x.length; i++) x[i] = rng.normal() * 1.5 + 0.2
  return x
}

type Forward = (x: Float32Array) => { f: Float64Array; xHat: Float64Array }

/** Encode and reconstruction of the loaded SAE against the reference, and of its generic conversion. */
async function checkAgainst(sae: SaeWeights, ref: Forward, tol = 1e-5): Promise<void> {
  const x = inputs(11, ROWS, sae.dIn)
  const check = (s: SaeWeights): void => {
    const norms = rowNorms(s, x, ROWS)
    const f = encodeRows(s, x, ROWS, norms)
    const xHat = decodeRows(s, f, ROWS, norms)
    let fired = 0
    for (let r = 0; r < ROWS; r++) {
      const xr = x.subarray(r * s.dIn, (r + 1) * s.dIn)
      const want = ref(xr)
      const got = f.subarray(r * s.dSae, (r + 1) * s.dSae)
      const largest = Math.max(...want.f.map(Math.abs), 1e-12)
      for (let j = 0; j < s.dSae; j++)
        expect(Math.abs(got[j] - want.f[j]) / largest, `row ${r} feature ${j}`).toBeLessThan(tol)
      fired += want.f.filter(v => v > 0).length
      expect(
        relativeError(xHat.subarray(r * s.dIn, (r + 1) * s.dIn), want.xHat),
        `row ${r} reconstruction`
      ).toBeLessThan(tol)
    }
    expect(fired).toBeGreaterThan(0)
    expect(fired).toBeLessThan(ROWS * s.dSae)
  }
  check(sae)
  const dir = fresh('converted')
  saveGenericSae(sae, dir)
  const back = await loadSae(dir)
  expect(back.format).toBe('generic')
  expect([back.dIn, back.dSae, back.layer, back.inputNorm]).toEqual([sae.dIn, sae.dSae, sae.layer, sae.inputNorm])
  expect(back.activation.kind).toBe(sae.activation.kind)
  check(back)
}

describe('the preprint training save (<n>.pt + <n>_cfg.json)', () => {
  it('loads a file and a folder with one save, and asks which in a folder of several', async () => {
    const dir = fresh('preprint-train')
    const t = writePreprintTrainingSave(dir, 7, SHAPE, 3, 2)
    for (const path of [join(dir, '7.pt'), dir]) {
      const sae = await loadSae(path)
      expect([sae.format, sae.layer, sae.architecture]).toEqual(['preprint', 3, 'AutoEncoder (training save)'])
      await checkAgainst(sae, x => ({ f: preprintEncode(t, x), xHat: preprintDecode(t, preprintEncode(t, x)) }))
    }
    writePreprintTrainingSave(dir, 8, SHAPE, 4, 2)
    await expect(loadSae(dir)).rejects.toThrow(
      /holds 2 SAEs; choose one \(--sae-file NAME, or pass its path\): 7\.pt, 8\.pt/
    )
    expect((await loadSae(dir, { file: '8.pt' })).source).toBe(join(dir, '8.pt'))
    expect(inspectSae(dir).choices.map(c => c.file)).toEqual(['7.pt', '8.pt'])
  })
})

describe('InterPLM classes', () => {
  const cases: { cls: DictionaryFixtureClass; file: string; normalized: boolean; sqrtD?: boolean; arch: string }[] = [
    { cls: 'ReLUSAE', file: 'ae_normalized.pt', normalized: true, sqrtD: true, arch: 'InterPLM ReLUSAE' },
    { cls: 'ReLUSAE_Tied', file: 'ae_normalized.pt', normalized: true, arch: 'InterPLM ReLUSAE_Tied' },
    { cls: 'TopKSAE', file: 'ae_normalized.pt', normalized: true, sqrtD: true, arch: 'InterPLM TopKSAE' },
    { cls: 'BatchTopKSAE', file: 'batchtopk_normalized.pt', normalized: true, arch: 'InterPLM BatchTopKSAE' },
    { cls: 'JumpReLUSAE', file: 'ae_unnormalized.pt', normalized: false, sqrtD: false, arch: 'InterPLM JumpReLUSAE' },
    { cls: 'JumpReLUSAE_old', file: 'ae_normalized.pt', normalized: true, arch: 'InterPLM JumpReLUSAE (old names)' }
  ]
  for (const [n, c] of cases.entries()) {
    it(`reads ${c.cls} (${c.file}${c.sqrtD ? ', √d' : ''}) like interplm/sae/dictionary.py`, async () => {
      const root = fresh('interplm')
      const fx = randomDictionary(c.cls, SHAPE, 40 + n, {
        rescale: true,
        normalizeToSqrtD: c.sqrtD,
        zeroFactorAt: 5,
        k: 6,
        threshold: 0.3
      })
      const file = writeInterplmClass(root, 4, c.file, fx)
      const sae = await loadSae(file)
      expect([sae.format, sae.architecture, sae.layer]).toEqual(['interplm', c.arch, 4])
      expect(sae.inputNorm).toBe(c.sqrtD ? 'sqrt-d' : 'none')
      await checkAgainst(sae, x =>
        dictionaryForward(c.cls, fx.tensors, x, {
          normalizedForm: c.normalized,
          normalizeToSqrtD: c.sqrtD,
          k: fx.k,
          threshold: fx.threshold
        })
      )
      if (c.normalized) expect(sae.featureScale[5]).toBe(0) // never fired: reports 0, not NaN
    })
  }
})

describe('InterProt', () => {
  it('reads esm2_plm<d>_l<layer>_sae<n>.safetensors: shapes from the name, k from the name, the library, or 128', async () => {
    const dir = fresh('interprot')
    const { file, tensors } = writeInterprotSae(dir, 3, SHAPE, 5)
    const sae = await loadSae(file)
    expect([sae.format, sae.layer, sae.inputNorm, sae.activation]).toEqual([
      'interprot',
      3,
      'standardize',
      { kind: 'topk', k: 48, relu: true }
    ])
    expect(sae.notes?.[0]).toMatch(/k = 128: the InterProt loader's default/)
    for (const [opts, k, why] of [
      [{ k: 5 }, 5, /given with --sae-k/],
      [{ libraryK: 9 }, 9, /from the model library entry/]
    ] as [LoadSaeOptions, number, RegExp][]) {
      const s = await loadSae(file, opts)
      expect(s.activation).toEqual({ kind: 'topk', k, relu: true })
      expect(s.notes?.[0]).toMatch(why)
      await checkAgainst(s, x => interprotForward(tensors, x, k))
    }
    const named = writeInterprotSae(dir, 2, SHAPE, 6, '_k7_auxk640')
    const s7 = await loadSae(named.file, { libraryK: 9 })
    expect(s7.activation).toEqual({ kind: 'topk', k: 7, relu: true })
    expect(s7.notes?.[0]).toMatch(/from the file name \(_k7\)/)
    await checkAgainst(s7, x => interprotForward(named.tensors, x, 7))
    // the folder (like the hub repository) holds two: pick by layer or by file
    await expect(loadSae(dir)).rejects.toThrow(
      /InterProt folder holds 2 SAEs for layers 2, 3; choose one \(--sae-file NAME or --sae-layer N/
    )
    expect((await loadSae(dir, { layer: 3 })).source).toBe(file)
    expect((await loadSae(dir, { file: 'esm2_plm16_l2_sae48_k7_auxk640.safetensors' })).layer).toBe(2)
  })

  it('checks the name against the shapes', async () => {
    const dir = fresh('interprot-bad')
    const { file } = writeInterprotSae(dir, 3, SHAPE, 5)
    const wrong = join(dir, 'esm2_plm32_l3_sae48.safetensors')
    writeFileSync(wrong, readFileSync(file))
    await expect(loadSae(wrong)).rejects.toThrow(
      /tensor "w_enc" has shape \[16, 48\], expected \[d_in=32, d_sae=48\] \(sizes from the file name/
    )
  })
})

describe('SAELens', () => {
  const cases = [
    { architecture: 'standard' as const },
    { architecture: 'standard' as const, applyBDecToInput: false, hookName: 'blocks.0.hook_resid_pre' },
    { architecture: 'topk' as const, k: 5 },
    { architecture: 'topk' as const, k: 5, legacy: true },
    { architecture: 'jumprelu' as const }
  ]
  for (const [n, c] of cases.entries()) {
    it(`reads a ${c.architecture}${c.legacy ? ' (activation_fn_str)' : ''} folder like sae_lens`, async () => {
      const dir = fresh('saelens')
      const t = writeSaelensSae(dir, SHAPE, 60 + n, c)
      const sae = await loadSae(dir)
      expect(sae.format).toBe('saelens')
      expect(sae.layer).toBe(c.hookName ? 0 : 3) // blocks.2.hook_resid_post = hidden_states[3]
      await checkAgainst(sae, x => saelensForward(t, x, c))
      expect((await loadSae(join(dir, 'cfg.json'))).hash).toBe(sae.hash)
    })
  }
})

describe('dictionary_learning and Matryoshka', () => {
  it('reads trainer folders (ae.pt + config.json) and asks which in a run folder', async () => {
    const run = fresh('dl-run')
    const batch = randomDictionary('BatchTopKSAE', SHAPE, 70, { k: 6, threshold: 0.35 })
    writeDictionaryLearningTrainer(join(run, 'trainer_0'), batch, 'BatchTopKSAE', SHAPE, 2)
    const mat = randomDictionary('MatryoshkaBatchTopKSAE', SHAPE, 71, { k: 6, threshold: 0.25 })
    writeDictionaryLearningTrainer(join(run, 'trainer_1'), mat, 'MatryoshkaBatchTopKSAE', SHAPE, 2)
    await expect(loadSae(run)).rejects.toThrow(
      /dictionary_learning \/ Matryoshka folder holds 2 SAEs; choose one .*trainer_0, trainer_1/
    )
    const s0 = await loadSae(run, { file: 'trainer_0' })
    expect([s0.format, s0.architecture, s0.layer]).toEqual([
      'dictionary-learning',
      'dictionary_learning BatchTopKSAE',
      3
    ])
    await checkAgainst(s0, x =>
      dictionaryForward('BatchTopKSAE', batch.tensors, x, { normalizedForm: false, threshold: 0.35 })
    )
    const s1 = await loadSae(join(run, 'trainer_1', 'ae.pt'))
    expect(s1.architecture).toBe('dictionary_learning MatryoshkaBatchTopKSAE')
    await checkAgainst(s1, x =>
      dictionaryForward('MatryoshkaBatchTopKSAE', mat.tensors, x, { normalizedForm: false, threshold: 0.25 })
    )
  })

  it('reads a Lightning .ckpt (zip pickle with a prefixed state dict and hyper-parameters)', async () => {
    const dir = fresh('dl-ckpt')
    const mat = randomDictionary('MatryoshkaBatchTopKSAE', SHAPE, 72, { k: 6, threshold: 0.3 })
    const file = join(dir, 'epoch=3-step=1200.ckpt')
    const { mkdirSync } = await import('node:fs')
    mkdirSync(dir, { recursive: true })
    writeLightningCheckpoint(file, mat, { layer: 1, k: 6, dict_size: SHAPE.dSae, architecture: 'matryoshka_batchtopk' })
    for (const path of [file, dir]) {
      const sae = await loadSae(path)
      expect([sae.format, sae.layer, sae.source]).toEqual(['dictionary-learning', 2, file])
      expect(sae.notes).toContain('state dict under "state_dict.sae."')
      await checkAgainst(sae, x =>
        dictionaryForward('MatryoshkaBatchTopKSAE', mat.tensors, x, { normalizedForm: false, threshold: 0.3 })
      )
    }
  })
})

describe('the registry', () => {
  it('says what each format looked for and found when nothing matches', async () => {
    const dir = fresh('unknown')
    const { mkdirSync } = await import('node:fs')
    mkdirSync(dir, { recursive: true })
    const file = join(dir, 'weights.safetensors')
    writeInterprotSae(dir, 1, SHAPE, 1) // a real InterProt file next to it, renamed below
    const fx = randomDictionary('ReLUSAE', SHAPE, 3)
    writeTorchCheckpoint(join(dir, 'mystery.pt'), new Map([['enc', fx.stateDict.get('encoder.weight') ?? null]]), {
      prefix: 'mystery'
    })
    await expect(loadSae(join(dir, 'mystery.pt'))).rejects.toThrow(
      /mystery\.pt: not a recognised SAE\.(.|\n)*InterPLM: looks for .*; found mystery\.pt: enc \[48, 16\](.|\n)*InterProt: looks for/
    )
    writeFileSync(file, 'not a tensor file at all')
    await expect(loadSae(file)).rejects.toThrow(
      /InterProt: looks for .*; found weights\.safetensors: .*not a safetensors file/
    )
    for (const p of SAE_FORMATS) expect(p.files.length).toBeGreaterThan(0)
  })

  it('refuses NaN or Inf weights', async () => {
    const dir = fresh('nan')
    const fx = randomDictionary('ReLUSAE', SHAPE, 4)
    fx.stateDict.set('encoder.bias', {
      dtype: 'F32',
      shape: [SHAPE.dSae],
      data: new Float32Array(SHAPE.dSae).fill(Number.NaN)
    })
    const file = writeInterplmClass(dir, 1, 'ae_unnormalized.pt', fx)
    await expect(loadSae(file)).rejects.toThrow(/weight "encBias" holds \d+ NaN values .*the first at index 0/)
  })

  it("the app's list of format ids is the registry's", () => {
    expect([...SAE_FILE_FORMATS]).toEqual(SAE_FORMATS.map(p => p.id))
  })

  it("the README table of formats is the registry's", () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8')
    expect(readme).toContain(formatsMarkdownTable())
  })
})
