/**
 * `npm run bench:experiment [-- --n 32 --length 100 --rounds 10 --threads 2 --stride 8 --exact-sample 16]`
 *
 * A steering experiment on the CPU with an ESM2 8M-shaped model (random weights, the real checkpoint format)
 * and a 10,240-latent random SAE in the preprint's format at layer 4: 2 clamp sets × 4 doses + controls
 * (no clamp, ablation per set, 2 frequency-matched random draws per set: 15 conditions), `--n` sequences of
 * `--length` residues per condition, resample mode (10 rounds, 15% masked). Firing frequencies are measured
 * on 32 random proteins first (not timed). Times the whole experiment (generation, outcomes, store, summary)
 * with PLL off and with the strided PLL estimate (the default of experiments); the exact PLL is timed on
 * `--exact-sample` of the generated sequences and extrapolated, and compared with the strided estimate on them.
 * Target: the experiment with the likelihood on (n 32, length 100) in under 5 minutes on a 2-core machine.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeHfCheckpoint } from '../test/fixtures/esm2-checkpoint'
import { randomProtein } from '../test/helpers/compare'
import { writePreprintSaeDir } from '../test/steer-helpers'
import { tokenize } from '../src/main/engine/esm/alphabet'
import { openLatentSource } from '../src/main/engine/sae/open-latent-source'
import { SteeredModel } from '../src/main/engine/steer/steered-model'
import { pseudoLogLikelihood, stridedPseudoLogLikelihood } from '../src/main/engine/steer/scores'
import { ExperimentStore } from '../src/main/engine/store/experiment-store'
import { LatentStore } from '../src/main/engine/store/latent-store'
import { runExperiment } from '../src/main/engine/experiment/experiment-run'
import { measureFeatureStatistics } from '../src/main/engine/experiment/reference-statistics'
import type { ExperimentDesign, PllMethod } from '../src/shared/experiment-types'
import { numberArg } from './bench-args'

const N = numberArg('n', 32)
const LENGTH = numberArg('length', 100)
const ROUNDS = numberArg('rounds', 10)
const THREADS = numberArg('threads', 2)
const STRIDE = numberArg('stride', 8)
const EXACT_SAMPLE = numberArg('exact-sample', 16)

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'plm-sae-bench-experiment-'))
  try {
    writeHfCheckpoint(join(dir, 'model'), '8M', 1, { omitTiedDecoder: true })
    writePreprintSaeDir(join(dir, 'sae'), 320, 10240, 3, 2)
    const { model, sae, extractor, close } = await openLatentSource({
      modelDir: join(dir, 'model'),
      cacheRoot: join(dir, 'cache'),
      runtime: { device: 'cpu', deviceId: 0, threads: THREADS },
      saeDir: join(dir, 'sae')
    })
    const steered = new SteeredModel(model, sae)
    const stats = await measureFeatureStatistics(
      extractor,
      Array.from({ length: 32 }, (_, i) => ({ id: `r${i}`, sequence: randomProtein(100, 500 + i) })),
      'random proteins'
    )
    const live = [...stats.freq.keys()].filter(f => stats.freq[f] > 0.01 && stats.freq[f] < 0.5)
    const [f1, f2, f3] = [live[0], live[Math.floor(live.length / 2)], live[live.length - 1]]
    const design = (pll: PllMethod): ExperimentDesign => ({
      name: `bench ${pll}`,
      start: { kind: 'sequences', sequences: [{ id: 'start', sequence: randomProtein(LENGTH, 7) }] },
      generation: { mode: 'resample', temperature: 1, rounds: ROUNDS, maskFraction: 0.15 },
      n: N,
      seed: 1,
      clampSets: [
        { name: `f${f1}`, clamps: [{ feature: f1, mode: 'multiple-of-max', value: 1 }] },
        {
          name: `f${f2}+f${f3}`,
          clamps: [
            { feature: f2, mode: 'multiple-of-max', value: 1 },
            { feature: f3, mode: 'multiple-of-max', value: 1 }
          ]
        }
      ],
      doses: [0.5, 1, 2, 4],
      controls: { noClamp: true, ablation: true, randomDraws: 2 },
      pll,
      pllStride: STRIDE,
      success: { kind: 'activation' }
    })
    console.log(
      `ESM2 8M shape (random weights), SAE ${sae.dSae} latents at layer ${steered.layer}, CPU ${THREADS} threads`
    )
    console.log(
      `design: 2 clamp sets × 4 doses + no clamp + ablation + 2 random draws per set = 15 conditions × ${N} sequences of ${LENGTH} aa, resample ${ROUNDS} rounds`
    )
    let seqs: { sequence: string }[] = []
    for (const pll of ['off', 'strided'] as PllMethod[]) {
      const store = LatentStore.open(join(dir, `${pll}.sqlite`))
      const t0 = performance.now()
      const { id, summary } = await runExperiment(
        { steered, extractor, store: new ExperimentStore(store.db), stats },
        design(pll)
      )
      const s = (performance.now() - t0) / 1000
      const total = summary.conditions.length * N
      console.log(
        `PLL ${summary.provenance.pllMethod.padEnd(18)}: ${total} sequences in ${s.toFixed(1)} s (${(total / s).toFixed(2)} sequences/s)${pll === 'strided' && N === 32 && LENGTH === 100 ? `  [target < 300 s: ${s < 300 ? 'met' : 'NOT met'}]` : ''}`
      )
      if (pll === 'strided') seqs = new ExperimentStore(store.db).sequences(id).slice(0, EXACT_SAMPLE)
      store.close()
    }
    if (seqs.length > 0) {
      const toks = seqs.map((q, i) => tokenize(q.sequence, `s${i}`))
      const t0 = performance.now()
      const exact = await pseudoLogLikelihood(steered, toks)
      const perSeq = (performance.now() - t0) / 1000 / toks.length
      const strided = await stridedPseudoLogLikelihood(steered, toks, STRIDE)
      const gaps = exact.map((e, i) => (e - strided[i]) / LENGTH)
      const meanGap = gaps.reduce((a, b) => a + b, 0) / gaps.length
      const r = correlation(exact, strided)
      console.log(
        `exact PLL: ${perSeq.toFixed(3)} s per sequence (${LENGTH} masked forwards, batched across sequences) → ≈ ${(perSeq * 15 * N).toFixed(0)} s more for the whole experiment`
      )
      console.log(
        `strided (${STRIDE} groups) vs exact on ${toks.length} generated sequences: mean gap ${meanGap.toFixed(4)} nats/residue (exact − strided), Pearson r ${r.toFixed(3)}`
      )
    }
    await close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function correlation(a: number[], b: number[]): number {
  const ma = a.reduce((x, y) => x + y, 0) / a.length
  const mb = b.reduce((x, y) => x + y, 0) / b.length
  let sab = 0
  let saa = 0
  let sbb = 0
  a.forEach((x, i) => {
    sab += (x - ma) * (b[i] - mb)
    saa += (x - ma) ** 2
    sbb += (b[i] - mb) ** 2
  })
  return sab / Math.sqrt(saa * sbb)
}

main().catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
