/**
 * `npm run bench:steer [-- --n 100 --rounds 10 --threads 2]`
 *
 * Steered generation on the CPU with an ESM2 8M-shaped model (random weights, the real checkpoint format) and a
 * 10,240-latent random SAE in the preprint's format at layer 4, three clamped features. For each mode at
 * lengths 100 and 300: sequences per second (generation only), plus the scoring cost (pseudo-log-likelihood,
 * the slowest score: one forward per residue) per sequence.
 * Targets: one steered edit of a 300-residue protein under 100 ms; 100 resampled sequences of length 100
 * (10 rounds, 15% masked per round) under 30 s.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeHfCheckpoint } from '../test/fixtures/esm2-checkpoint'
import { randomProtein } from '../test/helpers/compare'
import { writePreprintSaeDir } from '../test/steer-helpers'
import { tokenize } from '../src/main/engine/esm/alphabet'
import { generateTokens } from '../src/main/engine/steer/generate'
import { FeatureIntervention } from '../src/main/engine/steer/intervention'
import { pseudoLogLikelihood } from '../src/main/engine/steer/scores'
import { resolveSteeringPlan } from '../src/main/engine/steer/steering-plan'
import { openSteeredModel } from '../src/main/engine/steer/open-steered-model'
import { DEFAULT_GENERATION, type GenerationMode } from '../src/shared/steering-types'
import { numberArg } from './bench-args'

const N = numberArg('n', 100)
const ROUNDS = numberArg('rounds', 10)
const THREADS = numberArg('threads', 2)

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'plm-sae-bench-steer-'))
  try {
    writeHfCheckpoint(join(dir, 'model'), '8M', 1, { omitTiedDecoder: true })
    writePreprintSaeDir(join(dir, 'sae'), 320, 10240, 3, 2)
    const steered = await openSteeredModel({
      modelDir: join(dir, 'model'),
      cacheRoot: join(dir, 'cache'),
      runtime: { device: 'cpu', deviceId: 0, threads: THREADS },
      saeDir: join(dir, 'sae')
    })
    const { model, sae } = steered
    console.log(
      `ESM2 8M shape (random weights), SAE ${sae.dSae} latents at layer ${steered.layer}, CPU ${THREADS} threads; 3 clamps (absolute, add, ranged)`
    )
    const planFor = (L: number) =>
      new FeatureIntervention(
        sae,
        resolveSteeringPlan(
          {
            clamps: [
              { feature: 17, mode: 'absolute', value: 8 },
              { feature: 4242, mode: 'add-to-natural', value: 3 },
              { feature: 9000, mode: 'absolute', value: 5, range: { start: 10, end: Math.min(L, 60) } }
            ]
          },
          { dSae: sae.dSae, saeName: sae.name, residues: L }
        )
      )
    // warm up the sessions
    await generateTokens(steered, planFor(50), tokenize(randomProtein(50, 1), 's'), {
      ...DEFAULT_GENERATION,
      mode: 'edit',
      n: 1
    })
    const rows: string[] = []
    for (const L of [100, 300]) {
      const start = tokenize(randomProtein(L, L), 's')
      const iv = planFor(L)
      // one steered edit (single forward), median of 7
      const times: number[] = []
      for (let i = 0; i < 7; i++) {
        const t0 = performance.now()
        await generateTokens(steered, iv, start, { ...DEFAULT_GENERATION, mode: 'edit', n: 1, temperature: 0 })
        times.push(performance.now() - t0)
      }
      times.sort((a, b) => a - b)
      const editMs = times[3]
      // the same sequence through the unsteered model (one graph), for the cost of the splice + intervention
      const plain: number[] = []
      for (let i = 0; i < 7; i++) {
        const t0 = performance.now()
        await steered.unsteeredLogits([start])
        plain.push(performance.now() - t0)
      }
      plain.sort((a, b) => a - b)
      rows.push(
        `unsteered L=${L}: one forward ${plain[3].toFixed(1)} ms (median of 7): steering adds ${(editMs - plain[3]).toFixed(1)} ms`
      )
      rows.push(
        `edit      L=${L}: one steered edit ${editMs.toFixed(1)} ms (median of 7) = ${(1000 / editMs).toFixed(1)} sequences/s${L === 300 ? `  [target < 100 ms: ${editMs < 100 ? 'met' : 'NOT met'}]` : ''}`
      )
      for (const mode of ['resample', 'denovo'] as GenerationMode[]) {
        const n = L === 100 ? N : Math.max(1, Math.round(N / 5))
        const t0 = performance.now()
        await generateTokens(steered, iv, mode === 'denovo' ? undefined : start, {
          ...DEFAULT_GENERATION,
          mode,
          n,
          seed: 1,
          temperature: 1,
          rounds: ROUNDS,
          maskFraction: 0.15,
          length: L
        })
        const s = (performance.now() - t0) / 1000
        const target =
          mode === 'resample' && L === 100 && n === 100 ? `  [target 100 in < 30 s: ${s < 30 ? 'met' : 'NOT met'}]` : ''
        rows.push(
          `${mode.padEnd(9)} L=${L}: ${n} sequences × ${ROUNDS} rounds in ${s.toFixed(2)} s = ${(n / s).toFixed(2)} sequences/s${target}`
        )
      }
      const k = L === 100 ? 4 : 2
      const t1 = performance.now()
      await pseudoLogLikelihood(
        steered,
        Array.from({ length: k }, (_, i) => tokenize(randomProtein(L, 100 + i), 'p'))
      )
      const pllS = (performance.now() - t1) / 1000 / k
      rows.push(`scoring   L=${L}: pseudo-log-likelihood ${pllS.toFixed(2)} s per sequence (${L} masked forwards)`)
      console.log(rows.splice(0).join('\n'))
    }
    await model.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
