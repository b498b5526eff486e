/**
 * `npm run bench:infer [-- --sequences 1000 --threads 2 --batch-tokens N --single N]`
 *
 * Tokens → layer 4 of an ESM2 8M-shaped model (random weights, the real checkpoint format) on the CPU, over
 * the first sequences of ../shared/data/sequences/uniprot-20k.fasta.gz: residues per second in length-sorted
 * batches and one sequence at a time, against this machine's measured matrix-multiply rate (an ONNX MatMul
 * [2048, 320] × [320, 1280] float32 through onnxruntime-node on the same threads).
 *
 * FLOPs are counted exactly from the shape and each piece's token count T (residues + <cls>/<eos>; a
 * sequence longer than the window counts every window run): per block, 2·T·H·3H (q, k, v) + 2·T²·H
 * (scores) + 2·T²·H (weighted values) + 2·T·H·H (output) + 2·T·H·F + 2·T·F·H (feed-forward); padding is
 * not counted (it is waste, which shows as a lower fraction).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { writeHfCheckpoint } from '../test/fixtures/esm2-checkpoint'
import { tokenize } from '../src/main/engine/esm/alphabet'
import { DEFAULT_BATCHING, DEFAULT_WINDOW, type SequenceInput } from '../src/main/engine/esm/esm2-model'
import { openEsm2 } from '../src/main/engine/esm/open-esm2'
import { planWindows } from '../src/main/engine/esm/windows'
import { readFasta } from '../src/main/engine/io/fasta'
import { ElemType, GraphBuilder, encodeModel } from '../src/main/engine/onnx/onnx-model'
import { numberArg, UNIPROT_20K } from './bench-args'

const FASTA = UNIPROT_20K
const LAYER = 4

const N = numberArg('sequences', 1000)
const THREADS = numberArg('threads', 2)
const BATCH_TOKENS = numberArg('batch-tokens', DEFAULT_BATCHING.maxBatchTokens)
const SINGLE = numberArg('single', N)
const SOLO = numberArg('solo-tokens', DEFAULT_BATCHING.soloTokens ?? 0)
/** Also time length-sorted padded batches packed to maxBatchTokens (soloTokens off), the pre-flash-attention policy. */
const PADDED = process.argv.includes('--padded')

/** Runs `fn`, returning wall-clock and process CPU seconds (CPU time shows how much the machine was shared). */
async function timed(fn: () => Promise<void>): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  await fn()
  const c = process.cpuUsage(c0)
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 }
}

/** FLOPs of blocks 1..layers for one unpadded piece of T tokens. */
function prefixFlops(T: number, H: number, F: number, layers: number): number {
  return layers * (2 * T * H * 3 * H + 4 * T * T * H + 2 * T * H * H + 4 * T * H * F)
}

/** GFLOP/s of one float32 MatMul [m, k] × [k, n] through onnxruntime-node on `threads` threads. */
async function matmulRate(dir: string, m: number, k: number, n: number, threads: number): Promise<number> {
  const b = new GraphBuilder('matmul')
  const a = b.input('a', ElemType.FLOAT, [m, k])
  const w = b.constFloat(
    Float32Array.from({ length: k * n }, (_, i) => Math.sin(i) * 0.1),
    [k, n]
  )
  b.output(b.matMul(a, w), 'y', ElemType.FLOAT, [m, n])
  const path = join(dir, 'matmul.onnx')
  writeFileSync(path, encodeModel(b.build(), 'bench'))
  const session = await ort.InferenceSession.create(path, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all'
  })
  const feeds = {
    a: new ort.Tensor(
      'float32',
      Float32Array.from({ length: m * k }, (_, i) => Math.cos(i)),
      [m, k]
    )
  }
  for (let i = 0; i < 5; i++) await session.run(feeds)
  let best = Infinity
  for (let rep = 0; rep < 5; rep++) {
    const iters = 20
    const t0 = performance.now()
    for (let i = 0; i < iters; i++) await session.run(feeds)
    best = Math.min(best, (performance.now() - t0) / iters)
  }
  await session.release()
  return (2 * m * k * n) / (best / 1000) / 1e9
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'plm-sae-bench-infer-'))
  try {
    const inputs: SequenceInput[] = []
    for await (const rec of readFasta(FASTA)) {
      if (inputs.length >= N) break
      inputs.push({ id: rec.id, tokens: tokenize(rec.sequence, rec.id) })
    }
    const residues = inputs.reduce((s, x) => s + x.tokens.length - 2, 0)
    const lengths = inputs.map(x => x.tokens.length - 2).sort((a, b) => a - b)

    writeHfCheckpoint(join(dir, 'ckpt'), '8M', 1, { omitTiedDecoder: true })
    const model = await openEsm2({
      modelDir: join(dir, 'ckpt'),
      cacheRoot: join(dir, 'cache'),
      runtime: { device: 'cpu', deviceId: 0, threads: THREADS }
    })
    const imported = model.imported
    const { hiddenSize: H, intermediateSize: F } = imported.config
    let flops = 0
    let pieces = 0
    for (const x of inputs) {
      for (const w of planWindows(x.tokens.length - 2, DEFAULT_WINDOW)) {
        flops += prefixFlops(w.end - w.start + 2, H, F, LAYER)
        pieces++
      }
    }

    // Measured before and after the runs; the higher figure is the better estimate of the machine when shared.
    const matmulBefore = await matmulRate(dir, 2048, 320, 1280, THREADS)

    const req = { hidden: [LAYER], logits: false }
    await model.runBatch([inputs[0].tokens.subarray(0, Math.min(inputs[0].tokens.length, 100))], req) // session creation, not timed

    const load = loadavg()[0]
    const runAll = async (batching: typeof DEFAULT_BATCHING) => {
      let done = 0
      const t = await timed(async () => {
        for await (const out of model.forward(inputs, req, { batching })) done += out.length > 0 ? 1 : 0
      })
      if (done !== inputs.length) throw new Error(`forward returned ${done} of ${inputs.length} sequences`)
      return t
    }
    const batching = { ...DEFAULT_BATCHING, maxBatchTokens: BATCH_TOKENS, soloTokens: SOLO }
    const batched = await runAll(batching)
    const padded = PADDED ? await runAll({ ...batching, soloTokens: undefined }) : undefined

    const single = inputs.slice(0, SINGLE)
    const singleResidues = single.reduce((s, x) => s + x.tokens.length - 2, 0)
    let singleFlops = 0
    for (const x of single)
      for (const w of planWindows(x.tokens.length - 2, DEFAULT_WINDOW))
        singleFlops += prefixFlops(w.end - w.start + 2, H, F, LAYER)
    const solo = await timed(async () => {
      for (const x of single) for await (const out of model.forward([x], req)) void out
    })
    await model.close()
    const gflops = Math.max(matmulBefore, await matmulRate(dir, 2048, 320, 1280, THREADS))
    const median = lengths[lengths.length >> 1]

    const rate = (r: number, s: number) => Math.round(r / s).toLocaleString('en-US')
    const frac = (f: number, s: number) => `${((100 * f) / s / 1e9 / gflops).toFixed(1)} %`
    const row = (r: number, f: number, t: { wall: number; cpu: number }) =>
      `${rate(r, t.wall)} residues/s, ${t.wall.toFixed(1)} s, ${(f / t.wall / 1e9).toFixed(1)} GFLOP/s = ${frac(f, t.wall)} of matmul rate; CPU ${t.cpu.toFixed(1)} s`
    const rows: [string, string][] = [
      ['sequences', `${inputs.length} (${pieces} pieces after windowing at ${DEFAULT_WINDOW})`],
      [
        'residues',
        `${residues.toLocaleString('en-US')} (length median ${lengths[lengths.length >> 1]}, max ${lengths[lengths.length - 1]})`
      ],
      ['model', `${imported.name} shape, random weights; tokens → layer ${LAYER} (blocks 1-${LAYER})`],
      [
        'work',
        `${(flops / 1e9).toFixed(1)} GFLOP = ${(flops / residues / 1e6).toFixed(2)} MFLOP/residue (attention included; ${(prefixFlops(median + 2, H, F, LAYER) / median / 1e6).toFixed(2)} at the median length)`
      ],
      ['CPU threads', `${THREADS} (onnxruntime-node ${ort.env.versions.common})`],
      ['matmul rate', `${gflops.toFixed(1)} GFLOP/s (MatMul [2048,320]×[320,1280] f32, best of before/after the runs)`],
      [
        'load average',
        `${load.toFixed(2)} at the start (other processes share the ${cpus().length} cores: figures are lower when it is above 0)`
      ],
      [`forward (default)`, `${row(residues, flops, batched)} (maxBatchTokens ${BATCH_TOKENS}, soloTokens ${SOLO})`],
      ...(padded
        ? [
            [
              'padded batches',
              `${row(residues, flops, padded)} (packed to maxBatchTokens ${BATCH_TOKENS}, no soloTokens)`
            ] as [string, string]
          ]
        : []),
      [`one at a time (${single.length})`, row(singleResidues, singleFlops, solo)],
      ['reference', 'plain PyTorch on this machine: ~1,500 residues/s one at a time, ~800 in padded batches of 8']
    ]
    const w = Math.max(...rows.map(([k]) => k.length))
    process.stdout.write(`\nbench:infer — ESM2 tokens → layer ${LAYER} on the CPU\n`)
    for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(w)}  ${v}\n`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:infer: ${(e as Error).stack ?? String(e)}\n`)
  process.exit(1)
})
