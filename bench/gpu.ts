/**
 * `npm run bench:gpu [-- --sequences 200 --max-length 0 --shape 8M|650M --threads 2]`: the one command to run on a machine
 * with a GPU. On every execution provider that is available here (CPU always; CUDA when its provider loads;
 * WebGPU when Dawn finds an adapter, a software one included, labelled so), over the first sequences of
 * ../shared/data/sequences/uniprot-20k.fasta.gz with an ESM2 model of the chosen shape (random weights, the
 * real checkpoint format; 650M = its widths with the 4 layers that layer 4 needs):
 *   - tokens → layer 4: residues per second (length-sorted batches packed to the provider's token budget,
 *     esm2-model.ts `batchingFor`), and the parity against the CPU (max relative error over a padded batch);
 *   - indexing with a 10,240-latent SAE (ESM2 → SAE → sparse latents, LatentExtractor): residues per second,
 *     and the parity of the latents against the CPU;
 *   - peak memory: the process's peak resident set (host memory; each provider runs in its own process),
 *     and on CUDA the GPU memory in use after the runs (nvidia-smi).
 * Session creation (graph compilation, shader compilation on WebGPU) is not timed; each phase's wall time is
 * printed to stderr as it ends, so a slow provider (SwiftShader) shows where it is. `--max-length N` takes only
 * sequences of at most N residues (0: all), for a short run on a software adapter.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { EOS_ID, tokenize } from '../src/main/engine/esm/alphabet'
import { batchingFor, type SequenceInput } from '../src/main/engine/esm/esm2-model'
import { openEsm2 } from '../src/main/engine/esm/open-esm2'
import { readFasta } from '../src/main/engine/io/fasta'
import {
  cudaProviderInstalled,
  describeProvider,
  type ExecutionProvider,
  type RuntimeOptions
} from '../src/main/engine/runtime/execution-provider'
import { describeAdapter, findWebGpuAdapter } from '../src/main/engine/runtime/webgpu-adapter'
import { LatentExtractor } from '../src/main/engine/sae/latent-extractor'
import { loadSae } from '../src/main/engine/sae/sae-load'
import { densify } from '../src/main/engine/sae/sparse-latents'
import { writeHfCheckpoint, type Esm2Shape } from '../test/fixtures/esm2-checkpoint'
import { writeGenericSae } from '../test/fixtures/sae-checkpoints'
import { relativeError } from '../test/helpers/compare'
import { numberArg, UNIPROT_20K } from './bench-args'

const LAYER = 4
const D_SAE = 10_240
const N = numberArg('sequences', 200)
const MAX_LENGTH = numberArg('max-length', 0)
const THREADS = numberArg('threads', 0)
const PARITY_SEQUENCES = 8
const SHAPE_NAME = process.argv.includes('--shape') ? process.argv[process.argv.indexOf('--shape') + 1] : '8M'
const SHAPES: Record<string, Esm2Shape> = {
  '8M': { layers: 6, hidden: 320, heads: 20, ffn: 1280, vocab: 33, maxPositions: 1026 },
  '650M': { layers: LAYER, hidden: 1280, heads: 20, ffn: 5120, vocab: 33, maxPositions: 1026 }
}

interface ProviderResult {
  provider: ExecutionProvider
  where: string
  budget: string
  inferRate: number
  indexRate: number
  peakRssMb: number
  gpuMemory?: string
  /** Outputs of the parity batch, compared with the CPU's by the parent. */
  hidden: number[][]
  latents: number[][]
}

async function readInputs(): Promise<SequenceInput[]> {
  const inputs: SequenceInput[] = []
  for await (const rec of readFasta(UNIPROT_20K)) {
    if (inputs.length >= N) break
    if (MAX_LENGTH > 0 && rec.sequence.length > MAX_LENGTH) continue
    inputs.push({ id: rec.id, tokens: tokenize(rec.sequence, rec.id) })
  }
  return inputs
}

/** One provider, in this process (a child of the parent): throughput, parity outputs, peak memory. */
async function measure(dir: string, provider: ExecutionProvider): Promise<ProviderResult> {
  let phaseStart = performance.now()
  const phase = (what: string): void => {
    const now = performance.now()
    process.stderr.write(`         [${provider}] ${what}: ${((now - phaseStart) / 1000).toFixed(1)} s\n`)
    phaseStart = now
  }
  const inputs = await readInputs()
  const residues = inputs.reduce((s, x) => s + x.tokens.length - 2, 0)
  const runtime: RuntimeOptions = { device: provider, deviceId: 0, threads: THREADS }
  const model = await openEsm2({ modelDir: join(dir, 'ckpt'), cacheRoot: join(dir, 'cache'), runtime })
  const req = { hidden: [LAYER], logits: false }
  // <cls> + at most 198 residues + <eos>
  const parity = inputs.slice(0, PARITY_SEQUENCES).map(x => {
    const t = x.tokens.slice(0, Math.min(x.tokens.length, 200))
    t[t.length - 1] = EOS_ID
    return t
  })
  const hidden = (await model.runBatch(parity, req)).map(o => Array.from(o.hidden.get(LAYER)!)) // also creates the session
  if (model.provider?.provider !== provider)
    throw new Error(`asked for ${provider}, got ${model.provider ? describeProvider(model.provider) : 'nothing'}`)
  phase('session + parity batch (tokens → layer)')
  const batching = batchingFor(provider)
  let t0 = performance.now()
  for await (const out of model.forward(inputs, req, { batching })) void out
  const inferRate = residues / ((performance.now() - t0) / 1000)
  phase('tokens → layer (timed)')

  const sae = await loadSae(join(dir, 'sae'))
  const ex = await LatentExtractor.open(model, sae)
  const latents: number[][] = []
  for await (const s of ex.extract(parity.map((tokens, i) => ({ id: `p${i}`, tokens }))))
    latents[Number(s.id.slice(1))] = Array.from(densify(s))
  phase('SAE session + parity batch (index)')
  t0 = performance.now()
  for await (const s of ex.extract(inputs)) void s
  const indexRate = residues / ((performance.now() - t0) / 1000)
  phase('index (timed)')
  await ex.close()
  await model.close()
  let gpuMemory: string | undefined
  if (provider === 'cuda') {
    try {
      gpuMemory = execFileSync(
        'nvidia-smi',
        ['--query-gpu=memory.used,memory.total', '--format=csv,noheader', '--id=0'],
        { encoding: 'utf8' }
      ).trim()
    } catch {
      gpuMemory = 'nvidia-smi not available'
    }
  }
  return {
    provider,
    where: describeProvider(model.provider),
    budget: `${batching.maxBatchTokens} tokens, ≤ ${batching.maxBatchSize} sequences${batching.soloTokens ? `, pieces ≥ ${batching.soloTokens} tokens alone` : ''}`,
    inferRate,
    indexRate,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    gpuMemory,
    hidden,
    latents
  }
}

async function main(): Promise<void> {
  const child = process.argv.indexOf('--child')
  if (child >= 0) {
    const [provider, dir] = [process.argv[child + 1] as ExecutionProvider, process.argv[child + 2]]
    process.stdout.write(`${JSON.stringify(await measure(dir, provider))}\n`)
    return
  }
  const shape = SHAPES[SHAPE_NAME]
  if (!shape) throw new Error(`--shape must be one of ${Object.keys(SHAPES).join(', ')}`)
  const dir = mkdtempSync(join(tmpdir(), 'plm-sae-bench-gpu-'))
  try {
    writeHfCheckpoint(join(dir, 'ckpt'), shape, 1, { omitTiedDecoder: true })
    writeGenericSae(join(dir, 'sae'), { dIn: shape.hidden, dSae: D_SAE }, 2, {
      activation: 'topk',
      k: 64,
      layer: LAYER
    })
    const providers: { provider: ExecutionProvider; note: string }[] = [
      { provider: 'cpu', note: `${THREADS || 'auto'} threads` }
    ]
    if (cudaProviderInstalled()) providers.push({ provider: 'cuda', note: 'device 0' })
    else
      process.stdout.write("CUDA: not measured (ONNX Runtime's CUDA provider is not installed: npm run setup:cuda)\n")
    const found = await findWebGpuAdapter()
    if (found.adapter)
      providers.push({
        provider: 'webgpu',
        note: `${describeAdapter(found.adapter)}${found.adapter.software ? ': SOFTWARE rendering on the CPU, not GPU speed' : ''}`
      })
    else process.stdout.write(`WebGPU: not measured (${found.reason})\n`)

    const results: ProviderResult[] = []
    const rate = (v: number) => Math.round(v).toLocaleString('en-US')
    const parity = (r: ProviderResult, key: 'hidden' | 'latents'): string => {
      const cpu = results.find(x => x.provider === 'cpu')
      if (!cpu || r === cpu) return 'reference'
      return Math.max(...r[key].map((v, i) => relativeError(v, cpu[key][i]))).toExponential(1)
    }
    /**
     * Latents of a top-k SAE: a residue whose k-th and (k+1)-th pre-activations are nearly tied can keep a different
     * latent on each provider (float sums in another order), which a whole-vector error would report as a large
     * difference. So: the largest relative difference of the latents active on both, and the residues whose
     * active set differs (each such latent's value is at the top-k boundary).
     */
    const latentParity = (r: ProviderResult): string => {
      const cpu = results.find(x => x.provider === 'cpu')
      if (!cpu || r === cpu) return 'reference'
      let worst = 0
      let rows = 0
      let differing = 0
      r.latents.forEach((dense, i) => {
        const ref = cpu.latents[i]
        for (let row = 0; row * D_SAE < ref.length; row++) {
          rows++
          let differs = false
          let rowMax = 0
          for (let f = row * D_SAE; f < (row + 1) * D_SAE; f++) rowMax = Math.max(rowMax, Math.abs(ref[f]))
          for (let f = row * D_SAE; f < (row + 1) * D_SAE; f++) {
            if ((ref[f] !== 0) !== (dense[f] !== 0)) differs = true
            else if (ref[f] !== 0) worst = Math.max(worst, Math.abs(dense[f] - ref[f]) / Math.max(rowMax, 1e-30))
          }
          if (differs) differing++
        }
      })
      return `${worst.toExponential(1)} on the latents active on both, active set differs in ${differing} of ${rows} residues (top-k near-ties)`
    }
    process.stdout.write(
      `\nbench:gpu — ESM2 ${SHAPE_NAME}-shaped (random weights), ${N} UniProt sequences${MAX_LENGTH > 0 ? ` of ≤ ${MAX_LENGTH} residues` : ''}, onnxruntime-node ${ort.env.versions.common}; load average ${loadavg()[0].toFixed(2)} (other processes share the machine)\n`
    )
    // Each provider's figures are printed as soon as they are measured (the CPU first: the parity reference).
    for (const p of providers) {
      process.stdout.write(`  ${p.provider.padEnd(6)} measuring (${p.note}) ...\n`)
      const r = spawnSync(
        process.execPath,
        [...process.execArgv, process.argv[1], ...process.argv.slice(2), '--child', p.provider, dir],
        { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'inherit'] }
      )
      if (r.status !== 0) {
        process.stdout.write(`  ${p.provider}: failed (exit ${r.status})\n`)
        continue
      }
      const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as ProviderResult
      results.push(res)
      process.stdout.write(
        `  ${res.provider.padEnd(6)} ${res.where}${p.note.includes('SOFTWARE') ? ' [software: not GPU speed]' : ''}\n`
      )
      process.stdout.write(
        `         tokens → layer ${LAYER}: ${rate(res.inferRate)} residues/s; index (${D_SAE.toLocaleString('en-US')}-latent SAE): ${rate(res.indexRate)} residues/s\n`
      )
      process.stdout.write(
        `         batch budget: ${res.budget}; peak host memory ${Math.round(res.peakRssMb)} MB${res.gpuMemory ? `; GPU memory ${res.gpuMemory}` : ''}\n`
      )
      process.stdout.write(
        `         parity vs CPU (max relative error, ${Math.min(PARITY_SEQUENCES, N)} sequences (≤ 198 residues), padded batch): layer ${LAYER} ${parity(res, 'hidden')}, latents ${latentParity(res)}\n`
      )
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:gpu: ${(e as Error).stack ?? String(e)}\n`)
  process.exit(1)
})
