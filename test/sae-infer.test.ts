/**
 * `plm-sae infer --sae <dir> [--sae-layer N]` end to end (the `infer` command parsed and run in-process):
 * the output's `<id>.latents` [T, d_sae] (with the <cls>/<eos> rows) against the ESM2 reference followed by
 * the SAE reference of the source format; layer selection and its errors.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inferCommand } from '../src/main/cli/commands/infer'
import { tokenize } from '../src/main/engine/esm/alphabet'
import { loadSae } from '../src/main/engine/sae/sae-load'
import { encodeRows } from '../src/main/engine/sae/sae-math'
import { referenceConfigFor, writeHfCheckpoint, type Esm2Shape, type Esm2Weights } from './fixtures/esm2-checkpoint'
import {
  randomDictionary,
  writeGenericSae,
  writeInterplmClass,
  writeInterplmSae,
  writeInterprotSae,
  writeLightningCheckpoint,
  writePreprintSae,
  writeSaelensSae
} from './fixtures/sae-checkpoints'
import { randomProtein, relativeError } from './helpers/compare'
import { tempDir } from './helpers/tmp'
import { referenceForward } from './reference/esm2-reference'
import {
  dictionaryForward,
  genericEncode,
  interplmEncode,
  interprotForward,
  preprintEncode,
  saelensForward
} from './reference/sae-reference'

const SHAPE: Esm2Shape = { layers: 4, hidden: 32, heads: 4, ffn: 64, vocab: 33, maxPositions: 1026 }
const SAE = { dIn: 32, dSae: 80 }
const TOL = 1e-4
const RECORDS = [
  { id: 'sp|P1|FIRST', seq: randomProtein(45, 1) },
  { id: 'masked', seq: randomProtein(12, 3) + '<mask>' + randomProtein(15, 4) },
  { id: 'tiny', seq: 'M' }
]

const tmp = tempDir('sae-infer')
const model = join(tmp.dir, 'model')
const cache = join(tmp.dir, 'cache')
const fasta = join(tmp.dir, 'in.fasta')
let weights: Esm2Weights
let runs = 0

beforeAll(() => {
  weights = writeHfCheckpoint(model, SHAPE, 7, { omitTiedDecoder: true })
  writeFileSync(fasta, RECORDS.map(r => `>${r.id} test\n${r.seq}\n`).join(''))
})
afterAll(() => tmp.cleanup())

async function infer(args: string[]): Promise<string> {
  const out = join(tmp.dir, `out-${runs++}.safetensors`)
  const cmd = inferCommand()
    .exitOverride()
    .configureOutput({ writeErr: () => undefined })
  await cmd.parseAsync(
    [
      '--model',
      model,
      '--fasta',
      fasta,
      '--out',
      out,
      '--device',
      'cpu',
      '--threads',
      '2',
      '--cache-dir',
      cache,
      '--quiet',
      ...args
    ],
    { from: 'user' }
  )
  return out
}

/** An independent safetensors parser: 8-byte LE header size, JSON header, raw data. */
function readSafetensors(path: string): {
  header: Record<string, { dtype: string; shape: number[] }>
  metadata: Record<string, string>
  get(name: string): Float32Array
} {
  const bytes = readFileSync(path)
  const n = Number(bytes.readBigUInt64LE(0))
  const parsed = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >
  const metadata = (parsed.__metadata__ ?? {}) as unknown as Record<string, string>
  delete parsed.__metadata__
  return {
    header: parsed,
    metadata,
    get(name) {
      const [b, e] = parsed[name].data_offsets
      return new Float32Array(Uint8Array.prototype.slice.call(bytes, 8 + n + b, 8 + n + e).buffer)
    }
  }
}

function checkLatents(out: string, layer: number, encodeRef: (x: Float64Array) => Float64Array): void {
  const st = readSafetensors(out)
  let fired = 0
  for (const rec of RECORDS) {
    const tokens = Array.from(tokenize(rec.seq, rec.id))
    const T = tokens.length
    expect(st.header[`${rec.id}.latents`]).toMatchObject({ dtype: 'F32', shape: [T, SAE.dSae] })
    const hidden = referenceForward(weights, referenceConfigFor(SHAPE), tokens).hidden[layer]
    const ref = new Float64Array(T * SAE.dSae)
    for (let t = 0; t < T; t++) ref.set(encodeRef(hidden.subarray(t * SAE.dIn, (t + 1) * SAE.dIn)), t * SAE.dSae)
    const got = st.get(`${rec.id}.latents`)
    expect(relativeError(got, ref), `${out} ${rec.id} latents`).toBeLessThan(TOL)
    fired += got.filter(v => v > 0).length
  }
  expect(fired).toBeGreaterThan(0)
}

describe('plm-sae infer --sae', () => {
  it('writes <id>.latents at the layer the SAE config names (generic layout), next to logits', async () => {
    const dir = join(tmp.dir, 'generic')
    const cfg = { activation: 'relu' as const, layer: 3 }
    const t = writeGenericSae(dir, SAE, 1, cfg)
    const out = await infer(['--sae', dir])
    const st = readSafetensors(out)
    expect(Object.keys(st.header).sort()).toEqual(RECORDS.flatMap(r => [`${r.id}.latents`, `${r.id}.logits`]).sort())
    expect(st.metadata).toMatchObject({
      sae: 'generic',
      sae_format: 'generic',
      sae_layer: '3',
      sae_sha256: (await loadSae(dir)).hash
    })
    checkLatents(out, 3, x => genericEncode(cfg, t, x))
  })

  it("maps the preprint config's block index to the layer (block 1 → layer 2)", async () => {
    const dir = join(tmp.dir, 'preprint')
    const t = writePreprintSae(dir, SAE, 2, { block: 1, weights: 'bin' })
    const out = await infer(['--sae', dir, '--sae-layer', '2'])
    expect(readSafetensors(out).metadata.sae_layer).toBe('2')
    checkLatents(out, 2, x => preprintEncode(t, x))
    await expect(infer(['--sae', dir, '--sae-layer', '3'])).rejects.toThrow(
      /trained on layer 2 \(its files say so\), but layer 3 was requested/
    )
  })

  it('takes the layer from --sae-layer when the SAE does not say, and picks layer_N in an InterPLM folder', async () => {
    const noLayer = join(tmp.dir, 'nolayer')
    const cfg = { activation: 'topk' as const, k: 5 }
    const t = writeGenericSae(noLayer, SAE, 3, cfg)
    await expect(infer(['--sae', noLayer])).rejects.toThrow(
      /does not say which layer it reads; pass it \(--sae-layer N/
    )
    checkLatents(await infer(['--sae', noLayer, '--sae-layer', '4']), 4, x => genericEncode(cfg, t, x))

    const root = join(tmp.dir, 'interplm')
    writeInterplmSae(root, 1, SAE, 4, { normalized: true })
    const l2 = writeInterplmSae(root, 2, SAE, 5, { normalized: true, normalizeToSqrtD: true })
    await expect(infer(['--sae', root])).rejects.toThrow(
      /holds 2 SAEs for layers 1, 2; choose one \(--sae-file NAME or --sae-layer N/
    )
    checkLatents(await infer(['--sae', root, '--sae-layer', '2']), 2, x => interplmEncode(l2.tensors, x, true))
  })

  it('reads every published format from a file and from a folder (InterProt, InterPLM TopK, SAELens, Lightning Matryoshka)', async () => {
    const hub = join(tmp.dir, 'interprot-hub')
    const l2 = writeInterprotSae(hub, 2, SAE, 11, '_k9_auxk640')
    const l3 = writeInterprotSae(hub, 3, SAE, 12)
    checkLatents(await infer(['--sae', l2.file]), 2, x => interprotForward(l2.tensors, x, 9).f)
    checkLatents(
      await infer(['--sae', hub, '--sae-layer', '3', '--sae-k', '7']),
      3,
      x => interprotForward(l3.tensors, x, 7).f
    )
    checkLatents(
      await infer(['--sae', hub, '--sae-file', 'esm2_plm32_l3_sae80.safetensors']),
      3,
      x => interprotForward(l3.tensors, x, 80).f
    )
    await expect(infer(['--sae', hub])).rejects.toThrow(/InterProt folder holds 2 SAEs for layers 2, 3; choose one/)

    const interplm = join(tmp.dir, 'interplm-topk')
    const topk = randomDictionary('TopKSAE', SAE, 13, { k: 8, rescale: true, normalizeToSqrtD: true })
    const file = writeInterplmClass(interplm, 1, 'ae_normalized.pt', topk)
    for (const path of [file, join(interplm, 'layer_1'), interplm]) {
      checkLatents(
        await infer(['--sae', path]),
        1,
        x => dictionaryForward('TopKSAE', topk.tensors, x, { normalizedForm: true, normalizeToSqrtD: true, k: 8 }).f
      )
    }

    const saelens = join(tmp.dir, 'saelens')
    const cfg = { architecture: 'jumprelu' as const, hookName: 'blocks.1.hook_resid_post' }
    const st = writeSaelensSae(saelens, SAE, 14, cfg)
    checkLatents(await infer(['--sae', saelens]), 2, x => saelensForward(st, x, cfg).f)
    checkLatents(await infer(['--sae', join(saelens, 'sae_weights.safetensors')]), 2, x => saelensForward(st, x, cfg).f)

    const ckptDir = join(tmp.dir, 'matryoshka')
    const mat = randomDictionary('MatryoshkaBatchTopKSAE', SAE, 15, { k: 8, threshold: 0.2 })
    mkdirSync(ckptDir, { recursive: true })
    writeLightningCheckpoint(join(ckptDir, 'last.ckpt'), mat, { layer: 2, k: 8 })
    for (const path of [join(ckptDir, 'last.ckpt'), ckptDir]) {
      checkLatents(
        await infer(['--sae', path]),
        3,
        x => dictionaryForward('MatryoshkaBatchTopKSAE', mat.tensors, x, { normalizedForm: false, threshold: 0.2 }).f
      )
    }
  })

  it('stitches long sequences like the hidden states (--window)', async () => {
    const dir = join(tmp.dir, 'generic-window')
    writeGenericSae(dir, SAE, 6, { activation: 'relu', layer: 2 })
    const sae = await loadSae(dir)
    const st = readSafetensors(await infer(['--sae', dir, '--window', '16', '--layers', '2']))
    for (const rec of RECORDS) {
      const T = rec.seq.replace('<mask>', 'X').length + 2
      const expected = encodeRows(sae, st.get(`${rec.id}.hidden.2`), T)
      expect(relativeError(st.get(`${rec.id}.latents`), expected), rec.id).toBeLessThan(1e-5)
    }
  })

  it('refuses an SAE of another width and a missing SAE folder', async () => {
    const wide = join(tmp.dir, 'wide')
    writeGenericSae(wide, { dIn: 40, dSae: 8 }, 1, { activation: 'relu', layer: 2 })
    await expect(infer(['--sae', wide])).rejects.toThrow(/reads vectors of width 40, but .* has hidden size 32/)
    await expect(infer(['--sae', join(tmp.dir, 'nothing')])).rejects.toThrow(/nothing: no such file or folder/)
    await expect(infer(['--sae', wide, '--sae-layer', 'x'])).rejects.toThrow(/--sae-layer must be a whole number/)
  })
})
