/**
 * Generation and scores with a steered tiny ESM2: reproducibility (same seed, same sequences; independent of
 * n and batching), only the 20 standard amino acids, the three modes' contracts, cancel and progress, and the
 * scores (PLL, re-encoded feature activation) against the float64 reference.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { randomProtein } from './helpers/compare'
import { tempDir } from './helpers/tmp'
import { steerSetup, type SteerSetup } from './steer-helpers'
import { referenceForward } from './reference/esm2-reference'
import { preprintEncode } from './reference/sae-reference'
import { MASK_ID, STANDARD_AMINO_ACIDS, detokenize, tokenize } from '../src/main/engine/esm/alphabet'
import { generateTokens } from '../src/main/engine/steer/generate'
import { FeatureIntervention } from '../src/main/engine/steer/intervention'
import { clampedFeatureActivations, pseudoLogLikelihood } from '../src/main/engine/steer/scores'
import { resolveSteeringPlan } from '../src/main/engine/steer/steering-plan'
import { SteeredModel } from '../src/main/engine/steer/steered-model'
import { runSteering } from '../src/main/engine/steer/steering-run'
import { toCsv, toFasta } from '../src/main/engine/steer/run-export'
import { DEFAULT_GENERATION, type GenerationSettings } from '../src/shared/steering-types'

describe('steered generation and scores', () => {
  const tmp = tempDir('steer-gen')
  let s: SteerSetup
  let steered: SteeredModel
  const start = randomProtein(40, 21)
  const startTokens = tokenize(start, 'start')
  let intervention: FeatureIntervention

  beforeAll(async () => {
    s = await steerSetup(tmp.dir)
    steered = new SteeredModel(s.model, s.sae, undefined, { maxBatchTokens: 8192, maxBatchSize: 3 })
    intervention = new FeatureIntervention(
      s.sae,
      resolveSteeringPlan(
        { clamps: [{ feature: 11, mode: 'absolute', value: 6 }] },
        { dSae: 64, saeName: 'sae', residues: 40 }
      )
    )
  })
  afterAll(async () => {
    await s?.model.close()
    tmp.cleanup()
  })

  const settings = (o: Partial<GenerationSettings>): GenerationSettings => ({ ...DEFAULT_GENERATION, ...o })
  const strings = (t: Int32Array[]) => t.map(x => detokenize(x))
  const onlyStandard = (seqs: string[]) => seqs.every(q => [...q].every(c => STANDARD_AMINO_ACIDS.includes(c)))

  it('edit at temperature 0 takes the argmax of the steered logits over the 20 amino acids', async () => {
    const [out] = await generateTokens(
      steered,
      intervention,
      startTokens,
      settings({ mode: 'edit', n: 1, temperature: 0 })
    )
    const [logits] = await steered.logits([startTokens], intervention)
    for (let r = 1; r <= 40; r++) {
      let best = -1
      for (const a of STANDARD_AMINO_ACIDS) {
        const id = tokenize(a, 'a')[1]
        if (best < 0 || logits[r * 33 + id] > logits[r * 33 + best]) best = id
      }
      expect(out[r]).toBe(best)
    }
    expect(out[0]).toBe(0)
    expect(out[41]).toBe(2)
  })

  for (const mode of ['edit', 'resample', 'denovo'] as const) {
    it(`${mode}: same seed gives the same sequences, independent of n; another seed differs; only standard amino acids`, async () => {
      const base = settings({
        mode,
        temperature: 1,
        rounds: 4,
        maskFraction: 0.2,
        length: mode === 'denovo' ? 30 : undefined
      })
      const iv =
        mode === 'denovo'
          ? new FeatureIntervention(
              s.sae,
              resolveSteeringPlan(
                { clamps: [{ feature: 11, mode: 'absolute', value: 6 }] },
                { dSae: 64, saeName: 'sae', residues: 30 }
              )
            )
          : intervention
      const a = strings(
        await generateTokens(steered, iv, mode === 'denovo' ? undefined : startTokens, { ...base, n: 5, seed: 7 })
      )
      const b = strings(
        await generateTokens(steered, iv, mode === 'denovo' ? undefined : startTokens, { ...base, n: 5, seed: 7 })
      )
      const c = strings(
        await generateTokens(steered, iv, mode === 'denovo' ? undefined : startTokens, { ...base, n: 2, seed: 7 })
      )
      const d = strings(
        await generateTokens(steered, iv, mode === 'denovo' ? undefined : startTokens, { ...base, n: 5, seed: 8 })
      )
      expect(b).toEqual(a)
      expect(c).toEqual(a.slice(0, 2))
      expect(d).not.toEqual(a)
      expect(new Set(a).size).toBeGreaterThan(1)
      expect(onlyStandard([...a, ...d])).toBe(true)
      expect(a.every(q => q.length === (mode === 'denovo' ? 30 : 40))).toBe(true)
      expect(a.every(q => !q.includes('<mask>'))).toBe(true)
    })
  }

  it('resample changes at most rounds × round(fraction × L) positions', async () => {
    const out = strings(
      await generateTokens(
        steered,
        intervention,
        startTokens,
        settings({ mode: 'resample', n: 4, rounds: 2, maskFraction: 0.1, temperature: 1, seed: 3 })
      )
    )
    for (const q of out) {
      const diff = [...q].filter((c, i) => c !== start[i]).length
      expect(diff).toBeLessThanOrEqual(8)
    }
  })

  it('reports progress up to the total and stops on cancel', async () => {
    const seen: number[] = []
    await generateTokens(
      steered,
      intervention,
      startTokens,
      settings({ mode: 'resample', n: 5, rounds: 3, temperature: 1 }),
      { onProgress: p => seen.push(p.done / p.total) }
    )
    expect(seen.at(-1)).toBe(1)
    expect(seen.every((v, i) => i === 0 || v >= seen[i - 1])).toBe(true)
    const ctl = new AbortController()
    let calls = 0
    const run = generateTokens(
      steered,
      intervention,
      startTokens,
      settings({ mode: 'resample', n: 5, rounds: 50, temperature: 1 }),
      {
        signal: ctl.signal,
        onProgress: () => {
          if (++calls === 2) ctl.abort()
        }
      }
    )
    await expect(run).rejects.toThrow('cancelled')
    expect(calls).toBe(2)
  })

  it('pseudo-log-likelihood = Σ_i log softmax(logits of x with i masked)[x_i], against the float64 reference', async () => {
    const seq = tokenize(randomProtein(9, 2), 'p')
    const [pll] = await pseudoLogLikelihood(steered, [seq])
    let ref = 0
    for (let i = 1; i <= 9; i++) {
      const masked = Array.from(seq)
      masked[i] = MASK_ID
      const { logits } = referenceForward(s.weights, s.refConfig, masked)
      const row = Array.from(logits.subarray(i * 33, (i + 1) * 33))
      const max = Math.max(...row)
      ref += row[seq[i]] - max - Math.log(row.reduce((a, v) => a + Math.exp(v - max), 0))
    }
    expect(pll).toBeCloseTo(ref, 3)
  })

  it('re-encoded feature activation is the mean over the clamp range of the unsteered SAE encoding', async () => {
    const seq = tokenize(randomProtein(12, 6), 'p')
    const clamps = resolveSteeringPlan(
      {
        clamps: [
          { feature: 4, mode: 'absolute', value: 1, range: { start: 3, end: 8 } },
          { feature: 20, mode: 'add-to-natural', value: 1 }
        ]
      },
      { dSae: 64, saeName: 'sae', residues: 12 }
    )
    const [[a4, a20]] = await clampedFeatureActivations(steered, clamps, [seq])
    const ref = referenceForward(s.weights, s.refConfig, Array.from(seq))
    const f = (r: number) =>
      preprintEncode(s.saeFixture.tensors, Array.from(ref.hidden[2].subarray(r * 32, (r + 1) * 32)))
    let m4 = 0
    for (let r = 3; r <= 8; r++) m4 += f(r)[4]
    let m20 = 0
    for (let r = 1; r <= 12; r++) m20 += f(r)[20]
    expect(a4).toBeCloseTo(m4 / 6, 4)
    expect(a20).toBeCloseTo(m20 / 12, 4)
  })

  it('a whole run: scores for every sequence and the parent, FASTA headers and CSV', async () => {
    const run = await runSteering(
      { steered },
      {
        start: { id: 'start', sequence: start },
        clamps: [{ feature: 11, mode: 'absolute', value: 6, range: { start: 2, end: 20 } }],
        settings: settings({ mode: 'resample', n: 3, seed: 5, temperature: 1, rounds: 2 }),
        motif: 'x(2)-[AC]',
        pll: true
      },
      { runId: 'r1' }
    )
    expect(run.sequences.map(q => q.id)).toEqual(['r1_1', 'r1_2', 'r1_3'])
    for (const q of run.sequences) {
      expect(q.scores.identity).toBeGreaterThan(0.5)
      expect(q.scores.pll).toBeLessThan(0)
      expect(q.scores.featureActivation).toHaveLength(1)
      expect(Array.isArray(q.scores.motifHits)).toBe(true)
    }
    expect(run.parentScores?.identity).toBe(1)
    const fasta = toFasta(run)
    expect(fasta.split('\n')[0]).toMatch(
      /^>r1_1 model=model model_sha256=[0-9a-f]{12} sae=sae sae_sha256=[0-9a-f]{12} layer=2 clamps=11:absolute:6@2-20 mode=resample seed=5 n=3 temperature=1 rounds=2 mask_fraction=0.15 parent=start identity=[0-9.]+ pll=-[0-9.]+ pll_per_residue=-[0-9.]+ f11=[0-9.]+ motif=x\(2\)-\[AC\] motif_hits=\d+/
    )
    const csv = toCsv(run).trim().split('\n')
    expect(csv[0]).toBe('id,sequence,length,identity,pll,pll_per_residue,f11_activation,motif_hits,motif_positions')
    expect(csv).toHaveLength(5)
    expect(csv[1].startsWith(`parent:start,${start},40,1,`)).toBe(true)
  })
})
