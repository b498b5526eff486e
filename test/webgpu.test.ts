/**
 * ONNX Runtime's WebGPU execution provider, run here in software (Dawn over SwiftShader, see
 * helpers/webgpu-env.ts): provider choice, and every graph the product runs (tokens → layers and logits,
 * a layer → logits for steering, ESM2 + SAE with sparse output) against the CPU provider and the float64
 * reference, with padding and `<mask>` tokens, for the 8M shape and a 650M-shaped model with fewer layers.
 * SwiftShader is slow: inputs are small.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tokenize } from '../src/main/engine/esm/alphabet'
import { importEsm2, type ImportedEsm2 } from '../src/main/engine/esm/esm2-import'
import { Esm2Model } from '../src/main/engine/esm/esm2-model'
import { ElemType, GraphBuilder, encodeModel } from '../src/main/engine/onnx/onnx-model'
import {
  createSession,
  describeProvider,
  probeProvider,
  SessionCache,
  type ProviderReport
} from '../src/main/engine/runtime/execution-provider'
import { findWebGpuAdapter } from '../src/main/engine/runtime/webgpu-adapter'
import { LatentExtractor } from '../src/main/engine/sae/latent-extractor'
import { loadSae } from '../src/main/engine/sae/sae-load'
import { densify, type SparseLatents } from '../src/main/engine/sae/sparse-latents'
import { referenceConfigFor, writeHfCheckpoint, type Esm2Shape } from './fixtures/esm2-checkpoint'
import { writeGenericSae } from './fixtures/sae-checkpoints'
import { runCli } from './helpers/cli'
import { randomProtein, relativeError } from './helpers/compare'
import { tempDir } from './helpers/tmp'
import { useSoftwareWebGpu, WEBGPU } from './helpers/webgpu-env'
import { referenceForward } from './reference/esm2-reference'
import { genericEncode } from './reference/sae-reference'

useSoftwareWebGpu()

const CPU = { device: 'cpu' as const, deviceId: 0, threads: 2 }
/** Tests that run models on SwiftShader (software) get up to 10 minutes on a loaded machine. */
const SLOW = 600_000
const TOL = 1e-4
const tmp = tempDir('webgpu')
afterAll(() => tmp.cleanup())

/** Sequences with padding in their batch (three lengths) and `<mask>` tokens; the longest is 62 tokens. */
const SEQS = [
  randomProtein(60, 1),
  randomProtein(14, 2) + '<mask>' + randomProtein(9, 3) + '<mask><mask>',
  randomProtein(23, 4)
]
const TOKENS = SEQS.map((s, i) => tokenize(s, `s${i}`))

function expectWebGpu(report: ProviderReport | undefined): void {
  expect(report?.provider, report ? describeProvider(report) : 'no report').toBe('webgpu')
  expect(report?.fallbackReason).toBeUndefined()
}

describe('choosing the WebGPU provider', () => {
  it('finds the software adapter: vendor, name, backend', async () => {
    const found = await findWebGpuAdapter()
    expect(found.reason).toBeUndefined()
    expect(found.adapter).toMatchObject({ vendor: 'google', backend: 'Vulkan', software: true })
    expect(found.adapter?.name).toMatch(/SwiftShader/)
  })

  it('--device webgpu runs there; auto passes over a software adapter for the CPU and says why', async () => {
    const gpu = await probeProvider(WEBGPU)
    expectWebGpu(gpu)
    expect(describeProvider(gpu)).toMatch(/^WebGPU: SwiftShader .*\(google, Vulkan, software\)$/)
    expect(gpu.reason).toBe('asked for WebGPU')
    const auto = await probeProvider({ ...WEBGPU, device: 'auto' })
    expect(auto.provider).toBe('cpu')
    expect(auto.reason).toMatch(/WebGPU: only a software adapter, SwiftShader.*slower than the CPU/)
    expect(auto.reason).toMatch(/CUDA/)
  })

  it('plm-sae device --device webgpu prints the adapter and the reason', async () => {
    const r = await runCli(['device', '--device', 'webgpu'])
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/^WebGPU: SwiftShader.*\(google, Vulkan, software\)\nwhy: asked for WebGPU/)
  })

  it(
    'plm-sae infer --device webgpu runs there and says so',
    async () => {
      const dir = join(tmp.dir, 'cli')
      writeHfCheckpoint(join(dir, 'ckpt'), 'tiny', 3, { omitTiedDecoder: true })
      writeFileSync(join(dir, 'in.fasta'), `>a\n${randomProtein(12, 8)}\n>b\n${randomProtein(7, 9)}\n`)
      const args = [
        'infer',
        '--model',
        join(dir, 'ckpt'),
        '--fasta',
        join(dir, 'in.fasta'),
        '--layers',
        '2',
        '--out',
        join(dir, 'out.safetensors'),
        '--cache-dir',
        join(dir, 'cache')
      ]
      const r = await runCli([...args, '--device', 'webgpu'])
      expect(r.code, r.err).toBe(0)
      expect(`${r.out}${r.err}`).toMatch(/ran on WebGPU: SwiftShader.*\(google, Vulkan, software\)/)
    },
    SLOW
  )

  it("a GPU run that fails falls back to the CPU with a message, and gives the CPU's numbers", async () => {
    // MultiHeadAttention with a key padding mask: the session opens on WebGPU, and its run fails there
    // ("not implemented for webgpu"), as a lost device or an exhausted GPU would.
    const b = new GraphBuilder('mha')
    const q = b.input('q', ElemType.FLOAT, [1, 3, 4])
    const mask = b.input('mask', ElemType.INT32, [1, 3])
    const y = b.node('MultiHeadAttention', [q, q, q, '', mask], {
      domain: 'com.microsoft',
      attributes: { num_heads: { type: 'int', value: 2 } }
    })
    b.output(y, 'y', ElemType.FLOAT, [1, 3, 4])
    const path = join(tmp.dir, 'mha.onnx')
    writeFileSync(path, encodeModel(b.build(), 'test'))
    const feeds = {
      q: new ort.Tensor(
        'float32',
        Float32Array.from({ length: 12 }, (_, i) => Math.sin(i)),
        [1, 3, 4]
      ),
      mask: new ort.Tensor('int32', Int32Array.from([1, 1, 0]), [1, 3])
    }
    const reports: ProviderReport[] = []
    const cache = new SessionCache<string>(WEBGPU, r => reports.push(r))
    try {
      const out = await cache.run('mha', () => path, feeds)
      const { session } = await createSession(path, CPU)
      const expected = await session.run(feeds)
      await session.release()
      expect(Array.from(out.y.data as Float32Array)).toEqual(Array.from(expected.y.data as Float32Array))
      expect(reports.map(r => r.provider)).toEqual(['webgpu', 'cpu'])
      expect(reports[1].fallbackReason).toMatch(
        /^WebGPU: SwiftShader.* failed during a run \(.*not implemented for webgpu.*\); running on the CPU from here on\.$/
      )
    } finally {
      await cache.releaseAll()
    }
  })
})

/** SwiftShader is slow on the 650M widths: two shorter sequences there (still padded, still with <mask>). */
const SHORT_TOKENS = [randomProtein(11, 5) + '<mask>' + randomProtein(8, 6), randomProtein(9, 7)].map((s, i) =>
  tokenize(s, `short${i}`)
)

/** Runs the product's graphs on WebGPU and on the CPU for one model shape, checking both against the reference. */
function checkShape(name: string, shape: Esm2Shape | '8M', seed: number, TOKENS: Int32Array[]): void {
  describe(`${name}: WebGPU equals the CPU and the float64 reference`, () => {
    let imported: ImportedEsm2
    let gpu: Esm2Model
    let cpu: Esm2Model
    let refs: ReturnType<typeof referenceForward>[]
    beforeAll(async () => {
      const dir = join(tmp.dir, name)
      const weights = writeHfCheckpoint(join(dir, 'ckpt'), shape, seed, { omitTiedDecoder: true })
      imported = await importEsm2(join(dir, 'ckpt'), join(dir, 'cache'))
      gpu = await Esm2Model.open(imported, WEBGPU, 64)
      cpu = await Esm2Model.open(imported, CPU, 64)
      refs = TOKENS.map(t => referenceForward(weights, referenceConfigFor(shape), Array.from(t)))
    }, SLOW)
    afterAll(async () => {
      await gpu?.close()
      await cpu?.close()
    })

    it(
      'tokens → every layer and the logits, in one padded batch with <mask> tokens',
      async () => {
        const layers = Array.from({ length: imported.config.numLayers + 1 }, (_, l) => l)
        const req = { hidden: layers, logits: true }
        const [g, c] = [await gpu.runBatch(TOKENS, req), await cpu.runBatch(TOKENS, req)]
        expectWebGpu(gpu.provider)
        TOKENS.forEach((_, i) => {
          const ref = refs[i]
          for (const l of layers) {
            expect(
              relativeError(g[i].hidden.get(l)!, c[i].hidden.get(l)!),
              `sequence ${i} layer ${l} vs CPU`
            ).toBeLessThan(TOL)
            expect(
              relativeError(g[i].hidden.get(l)!, ref.hidden[l]),
              `sequence ${i} layer ${l} vs reference`
            ).toBeLessThan(TOL)
          }
          expect(relativeError(g[i].logits!, c[i].logits!), `sequence ${i} logits vs CPU`).toBeLessThan(TOL)
          expect(relativeError(g[i].logits!, ref.logits), `sequence ${i} logits vs reference`).toBeLessThan(TOL)
        })
      },
      SLOW
    )

    it(
      'a layer → the logits (steering), in a padded batch',
      async () => {
        const from = imported.config.numLayers - 1
        const prefix = await cpu.runBatch(TOKENS, { hidden: [from], logits: false })
        const start = { from, hiddenIn: prefix.map(p => p.hidden.get(from)!) }
        const g = await gpu.runBatch(TOKENS, { hidden: [], logits: true }, start)
        const c = await cpu.runBatch(TOKENS, { hidden: [], logits: true }, start)
        TOKENS.forEach((_, i) => {
          expect(relativeError(g[i].logits!, c[i].logits!), `sequence ${i} vs CPU`).toBeLessThan(TOL)
          expect(relativeError(g[i].logits!, refs[i].logits), `sequence ${i} vs reference`).toBeLessThan(TOL)
        })
      },
      SLOW
    )
  })
}

checkShape('8M', '8M', 11, TOKENS)
// ESM2-650M's widths (1280 hidden, 20 heads of 64, 5120 feed-forward) with 2 of its 33 layers.
checkShape(
  '650M-shaped',
  { layers: 2, hidden: 1280, heads: 20, ffn: 5120, vocab: 33, maxPositions: 1026 },
  12,
  SHORT_TOKENS
)

describe('ESM2 8M + SAE, sparse latents on WebGPU', () => {
  it(
    'equal the CPU and the references (ESM2 float64 → SAE float64)',
    async () => {
      const dir = join(tmp.dir, 'sae')
      const weights = writeHfCheckpoint(join(dir, 'ckpt'), '8M', 21, { omitTiedDecoder: true })
      const imported = await importEsm2(join(dir, 'ckpt'), join(dir, 'cache'))
      const cfg = { activation: 'topk' as const, k: 16, layer: 4 }
      const t = writeGenericSae(join(dir, 'sae'), { dIn: 320, dSae: 640 }, 22, cfg)
      const sae = await loadSae(join(dir, 'sae'))
      const inputs = () => TOKENS.map((tokens, i) => ({ id: `s${i}`, tokens }))
      const extract = async (runtime: typeof CPU | typeof WEBGPU) => {
        const model = await Esm2Model.open(imported, runtime, 64)
        const ex = await LatentExtractor.open(model, sae)
        try {
          const out = new Map<string, SparseLatents>()
          for await (const s of ex.extract(inputs())) out.set(s.id, s)
          return { out, provider: ex.provider }
        } finally {
          await ex.close()
          await model.close()
        }
      }
      const g = await extract(WEBGPU)
      expectWebGpu(g.provider)
      const c = await extract(CPU)
      TOKENS.forEach((tokens, i) => {
        const hidden = referenceForward(weights, referenceConfigFor('8M'), Array.from(tokens)).hidden[4]
        const rows = tokens.length - 2
        const ref = new Float64Array(rows * 640)
        for (let r = 0; r < rows; r++)
          ref.set(genericEncode(cfg, t, hidden.subarray((r + 1) * 320, (r + 2) * 320)), r * 640)
        const gd = densify(g.out.get(`s${i}`)!)
        expect(relativeError(gd, densify(c.out.get(`s${i}`)!)), `s${i} vs CPU`).toBeLessThan(TOL)
        expect(relativeError(gd, ref), `s${i} vs reference`).toBeLessThan(TOL)
      })
    },
    SLOW
  )
})
