/**
 * Runs a steering experiment into the store, resumably:
 *
 *   design → conditions (conditions.ts; stored with the experiment, so a resumed run uses the same random
 *   controls) → per condition, chunks of `CHUNK` sequence indices → generate (generate.ts, only the indices
 *   the store lacks; sequence i draws from stream i of the design's seed and starts from start i mod #starts)
 *   → outcomes → one transaction per chunk → the summary (summary.ts).
 *
 * The experiment's id is a hash of the design, the model, the SAE and the layer: running the same design
 * again finds the experiment and computes only what is missing (nothing, when it is complete). A chunk's
 * sequences always run together in the same batches, so a resumed chunk gives bit-identical rows.
 */
import { createHash } from 'node:crypto'
import { detokenize, tokenize } from '../esm/alphabet'
import type { LatentExtractor } from '../sae/latent-extractor'
import type { SparseLatents } from '../sae/sparse-latents'
import { generateTokens } from '../steer/generate'
import { FeatureIntervention } from '../steer/intervention'
import { findMotifs, parseProsite, type PrositePattern } from '../steer/prosite'
import { identity, pseudoLogLikelihood, stridedPseudoLogLikelihood } from '../steer/scores'
import { resolveSteeringPlan, type ResolvedClamp } from '../steer/steering-plan'
import type { SteeredModel } from '../steer/steered-model'
import { provenanceOf } from '../steer/steering-run'
import type { ExperimentStore, StoredSequence } from '../store/experiment-store'
import {
  checkExperimentDesign,
  DEFAULT_PLL_STRIDE,
  MAX_EXPERIMENT_CONDITIONS,
  type ExperimentDesign,
  type ExperimentProvenance,
  type ExperimentSummary,
  type SequenceOutcomes
} from '../../../shared/experiment-types'
import type { ClampSpec, GenerationSettings } from '../../../shared/steering-types'
import { expandConditions, type FeatureStatistics } from './conditions'
import {
  backgroundComposition,
  changedFeatures,
  composition,
  compositionShift,
  featureMeans,
  longestRun,
  lowComplexityFraction,
  rangeMean,
  topResidueShare
} from './outcomes'
import { summarizeExperiment } from './summary'

/** Sequence indices generated and stored together. */
export const CHUNK = 32

export interface ExperimentContext {
  steered: SteeredModel
  extractor: LatentExtractor
  store: ExperimentStore
  /** Firing frequencies and max activations (random controls, multiple-of-max clamps, screening F1). */
  stats?: FeatureStatistics
  /** The starting proteins of a `proteins` start, by accession (from the project's store). */
  proteins?: (accessions: string[]) => { id: string; sequence: string }[]
  /** Screening by concept: the top features by concept F1 for an annotation type. */
  topByConcept?: (type: string, top: number) => number[]
  /** The library's names of model and SAE, recorded instead of the shape's. */
  names?: { model: string; sae: string }
}

export interface ExperimentProgress {
  phase: string
  done: number
  total: number
  /** Sequences per second in this session (from the first stored chunk on), and the seconds left at that rate. */
  rate?: number
  etaSeconds?: number
  /** Where inside the current chunk, e.g. "set1/dose2: generation 3/10". */
  detail?: string
}

export interface ExperimentRunOptions {
  signal?: AbortSignal
  onProgress?: (p: ExperimentProgress) => void
  /** Stop (as if killed) after this many chunks were stored in this session: for tests of resume. */
  stopAfterChunks?: number
  /** Sequence indices per chunk (default CHUNK); part of what makes a resumed chunk identical, so keep it fixed. */
  chunk?: number
}

/** Screening candidates become clamp sets; returns the design as run (stored with the experiment). */
export function expandScreening(
  design: ExperimentDesign,
  topByConcept?: (type: string, top: number) => number[]
): ExperimentDesign {
  if (!design.screen) return design
  const sc = design.screen
  const features = [...(sc.features ?? [])]
  if (sc.concept) {
    if (!topByConcept)
      throw new Error(
        "design.screen.concept needs the project's concept statistics: run the experiment in an indexed project (or give the CLI --db)"
      )
    const top = topByConcept(sc.concept.type, sc.concept.top)
    if (top.length === 0)
      throw new Error(`design.screen.concept: no feature has a concept F1 for "${sc.concept.type}" in this project`)
    for (const f of top) if (!features.includes(f)) features.push(f)
  }
  const clampSets = [
    ...design.clampSets,
    ...features.map(f => ({ name: `f${f}`, clamps: [{ ...sc.clamp, feature: f } as ClampSpec] }))
  ]
  const { screen: _screen, ...rest } = design
  return { ...rest, clampSets }
}

export function experimentId(
  design: ExperimentDesign,
  prov: { modelHash: string; saeHash: string; layer: number }
): string {
  const h = createHash('sha256')
    .update(JSON.stringify({ design, model: prov.modelHash, sae: prov.saeHash, layer: prov.layer }))
    .digest('hex')
  return `exp-${h.slice(0, 12)}`
}

function startsOf(design: ExperimentDesign, ctx: ExperimentContext): { id: string; sequence: string }[] {
  const s = design.start
  if (s.kind === 'denovo') return [{ id: 'denovo', sequence: '' }]
  if (s.kind === 'sequences')
    return s.sequences.map(q => ({ id: q.id, sequence: q.sequence.replace(/\s+/g, '').toUpperCase() }))
  if (!ctx.proteins)
    throw new Error(
      'design.start.kind "proteins" needs the project\'s store (run it in a project, or give the CLI --db)'
    )
  return ctx.proteins(s.accessions)
}

interface StartPlan {
  id: string
  tokens?: Int32Array
  residues: number
  sequence: string
  composition: Float64Array
  means: Map<number, number>
}

function meanOver(latents: SparseLatents, clamps: ResolvedClamp[]): number {
  if (clamps.length === 0) return NaN
  let s = 0
  for (const c of clamps) s += rangeMean(latents, c.feature, c.rowStart - 1, c.rowEnd - 1)
  return s / clamps.length
}

async function encodeAll(
  extractor: LatentExtractor,
  items: { id: string; tokens: Int32Array }[],
  signal?: AbortSignal
): Promise<Map<string, SparseLatents>> {
  const out = new Map<string, SparseLatents>()
  for await (const l of extractor.extract(items, { signal })) out.set(l.id, l)
  return out
}

/** Runs (or resumes) an experiment; returns its id and summary. */
export async function runExperiment(
  ctx: ExperimentContext,
  input: ExperimentDesign,
  opts: ExperimentRunOptions = {}
): Promise<{ id: string; summary: ExperimentSummary; resumed: boolean }> {
  checkExperimentDesign(input)
  const design = expandScreening(input, ctx.topByConcept)
  const steered = ctx.steered
  const base = provenanceOf(steered)
  const pllMethod = design.pll === 'strided' ? `strided (${design.pllStride ?? DEFAULT_PLL_STRIDE} groups)` : design.pll
  const provenance: ExperimentProvenance = {
    ...base,
    model: ctx.names?.model ?? base.model,
    sae: ctx.names?.sae ?? base.sae,
    featureStatistics: ctx.stats?.source ?? 'none',
    pllMethod
  }
  const id = experimentId(design, base)
  const motif: PrositePattern | undefined =
    design.motif && design.motif.trim() !== '' ? parseProsite(design.motif) : undefined
  design.clampSets.forEach((set, k) =>
    set.clamps.forEach(c => {
      if (c.feature >= steered.sae.dSae)
        throw new Error(
          `clamp set ${k + 1}: feature ${c.feature} does not exist: the SAE "${steered.sae.name}" has features 0 to ${steered.sae.dSae - 1}`
        )
    })
  )
  const fresh = expandConditions(design, ctx.stats)
  if (fresh.length > MAX_EXPERIMENT_CONDITIONS)
    throw new Error(
      `the design has ${fresh.length} conditions; at most ${MAX_EXPERIMENT_CONDITIONS} (fewer clamp sets, doses or random draws)`
    )
  const existing = ctx.store.exists(id)
  const conditions = existing ? ctx.store.conditions(id) : fresh

  // starts: tokens, composition and feature means (for composition shift and changed features)
  const rawStarts = startsOf(design, ctx)
  const starts: StartPlan[] = []
  if (design.start.kind === 'denovo') {
    starts.push({
      id: 'denovo',
      residues: design.start.length,
      sequence: '',
      composition: backgroundComposition(),
      means: new Map()
    })
  } else {
    const toks = rawStarts.map(s => ({ id: s.id, tokens: tokenize(s.sequence, s.id) }))
    const lat = await encodeAll(ctx.extractor, toks, opts.signal)
    for (const t of toks) {
      const seq = detokenize(t.tokens)
      starts.push({
        id: t.id,
        tokens: t.tokens,
        residues: seq.length,
        sequence: seq,
        composition: composition(seq),
        means: featureMeans(lat.get(t.id)!)
      })
    }
  }
  for (const s of starts)
    if (s.residues > steered.model.window)
      throw new Error(
        `start "${s.id}" has ${s.residues} residues, longer than the model's window (${steered.model.window})`
      )

  // plans: per condition and start; per clamp set and start (the set's features and ranges, for target activation)
  const maxActivation = (f: number): number | undefined => ctx.stats?.max[f]
  const resolve = (clamps: ClampSpec[], start: StartPlan, where: string): ResolvedClamp[] => {
    try {
      return resolveSteeringPlan(
        { clamps },
        { dSae: steered.sae.dSae, saeName: steered.sae.name, residues: start.residues, maxActivation }
      )
    } catch (e) {
      throw new Error(`${where}, start "${start.id}": ${(e as Error).message}`, { cause: e })
    }
  }
  const plans = conditions.map(c => starts.map(s => resolve(c.clamps, s, `condition ${c.label}`)))
  const setPlans = design.clampSets.map((set, k) => starts.map(s => resolve(set.clamps, s, `clamp set ${k + 1}`)))
  const randomConditions = conditions.filter(c => c.kind === 'random')
  // everything is checked: only now is the experiment created (a bad design leaves nothing behind)
  const created = existing ? false : ctx.store.create(id, design, provenance, fresh)

  const finished = ctx.store.finished(id)
  const total = conditions.length * design.n
  let done = finished.size
  const t0 = performance.now()
  let doneHere = 0
  let chunksHere = 0
  const report = (phase: string, detail?: string): void => {
    const secs = (performance.now() - t0) / 1000
    const rate = doneHere > 0 && secs > 0 ? doneHere / secs : undefined
    opts.onProgress?.({ phase, done, total, rate, etaSeconds: rate ? (total - done) / rate : undefined, detail })
  }
  report(finished.size > 0 ? 'resuming' : 'generating')
  const settingsBase: GenerationSettings = {
    mode: design.generation.mode,
    n: design.n,
    seed: design.seed,
    temperature: design.generation.temperature,
    rounds: design.generation.rounds,
    maskFraction: design.generation.maskFraction,
    length: design.start.kind === 'denovo' ? design.start.length : undefined
  }
  const stride = design.pllStride ?? DEFAULT_PLL_STRIDE

  for (const cond of conditions) {
    const size = opts.chunk ?? CHUNK
    for (let c0 = 0; c0 < design.n; c0 += size) {
      const chunk = Array.from({ length: Math.min(size, design.n - c0) }, (_, k) => c0 + k)
      if (chunk.every(i => finished.has(`${cond.index}:${i}`))) continue
      if (opts.signal?.aborted) throw new Error('cancelled')
      const items: StoredSequence[] = []
      for (let si = 0; si < starts.length; si++) {
        const indices = chunk.filter(i => i % starts.length === si)
        if (indices.length === 0) continue
        const start = starts[si]
        const plan = plans[cond.index][si]
        const tokens = await generateTokens(
          steered,
          new FeatureIntervention(steered.sae, plan),
          start.tokens,
          settingsBase,
          {
            indices,
            signal: opts.signal,
            onProgress: p =>
              report(
                `generating and scoring (${cond.label})`,
                `${cond.key}, sequences ${chunk[0]}–${chunk[chunk.length - 1]}: generation ${p.done}/${p.total} sequence passes`
              )
          }
        )
        const residues = tokens.map(t => detokenize(t))
        const pll =
          design.pll === 'off'
            ? undefined
            : design.pll === 'exact'
              ? await pseudoLogLikelihood(steered, tokens, { signal: opts.signal })
              : await stridedPseudoLogLikelihood(steered, tokens, stride, { signal: opts.signal })
        const lat = await encodeAll(
          ctx.extractor,
          tokens.map((t, k) => ({ id: String(k), tokens: t })),
          opts.signal
        )
        const exclude = new Set(cond.clamps.map(c => c.feature))
        indices.forEach((i, k) => {
          const seq = residues[k]
          const l = lat.get(String(k))!
          const means = featureMeans(l)
          const outcomes: SequenceOutcomes = {
            targetActivation: setPlans.map(sp => meanOver(l, sp[si])),
            randomActivation: Object.fromEntries(
              randomConditions.map(rc => [String(rc.index), meanOver(l, plans[rc.index][si])])
            ),
            topResidueShare: topResidueShare(seq),
            longestRun: longestRun(seq),
            lowComplexity: lowComplexityFraction(seq),
            compositionShift: compositionShift(composition(seq), start.composition),
            changedFeatures: changedFeatures(means, start.means, exclude)
          }
          if (plan.length > 0) outcomes.ownActivation = meanOver(l, plan)
          if (start.tokens) outcomes.identity = identity(start.tokens, tokens[k])
          if (pll) {
            outcomes.pll = pll[k]
            outcomes.pllPerResidue = pll[k] / seq.length
          }
          if (motif) outcomes.motifHits = findMotifs(motif, seq).length
          items.push({
            conditionIndex: cond.index,
            index: i,
            startId: start.id,
            sequence: seq,
            outcomes,
            featureMeans: means
          })
        })
      }
      items.sort((a, b) => a.index - b.index)
      ctx.store.putSequences(id, items)
      done += items.length
      doneHere += items.length
      chunksHere++
      report(`generating and scoring (${cond.label})`)
      if (opts.stopAfterChunks !== undefined && chunksHere >= opts.stopAfterChunks)
        throw new Error('stopped (stopAfterChunks)')
    }
  }
  report('summarising')
  const summary = summarizeExperiment(ctx.store, id, ctx.stats)
  ctx.store.setSummary(id, summary, 'complete')
  return { id, summary, resumed: !created }
}
