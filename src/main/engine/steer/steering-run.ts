/**
 * One steering run end to end, as the CLI and the workbench do it: check the request, resolve the plan,
 * generate, score (the parent too, for comparison), and return a `SteeringRunRecord` (exported by
 * run-export.ts). Also the live preview: how a plan shifts the per-position amino-acid probabilities.
 */
import { randomUUID } from 'node:crypto'
import { STANDARD_AMINO_ACIDS, detokenize, tokenize } from '../esm/alphabet'
import { parse } from '../../../shared/schema'
import {
  GenerationSettingsSchema,
  type ClampSpec,
  type SteeringRequest as SteeringRunInput,
  type SteeringProgress,
  type SteeringProvenance,
  type SteeringRunRecord
} from '../../../shared/steering-types'
import { generateTokens, standardProbabilities } from './generate'
import { FeatureIntervention } from './intervention'
import { parseProsite } from './prosite'
import { scoreSequences } from './scores'
import { resolveSteeringPlan, type ResolvedClamp } from './steering-plan'
import type { SteeredModel } from './steered-model'

/**
 * A steering run as the engine takes it: the contract's request (src/shared/steering-types.ts, without the
 * project), where the pseudo-log-likelihood defaults to on.
 */
export type SteeringRequest = Omit<SteeringRunInput, 'pll'> & { pll?: boolean }

export interface SteeringContext {
  steered: SteeredModel
  /** The feature's max activation in the project, for multiple-of-max clamps. */
  maxActivation?: (feature: number) => number | undefined
}

export function provenanceOf(steered: SteeredModel): SteeringProvenance {
  return {
    model: steered.model.imported.name,
    modelHash: steered.model.imported.hash,
    sae: steered.sae.name,
    saeHash: steered.sae.hash,
    layer: steered.layer
  }
}

/** What a request is checked against: the model's window, the SAE's width, the project's max activations. */
export interface SteeringLimits {
  window: number
  dSae: number
  saeName: string
  /** The feature's max activation in the project, for multiple-of-max clamps. */
  maxActivation?: (feature: number) => number | undefined
}

/**
 * Checks a request (its settings and clamps by their schemas in src/shared/steering-types.ts, then the start,
 * the length against the window, the plan against the SAE, the motif) and resolves its plan (throws clear
 * errors). The workbench calls it before the model is loaded (the default window, feature ids unchecked).
 */
export function checkSteeringRequest(
  req: SteeringRequest,
  limits: SteeringLimits
): { start?: Int32Array; residues: number; clamps: ResolvedClamp[] } {
  const settings = parse(GenerationSettingsSchema, req.settings, 'settings')
  let start: Int32Array | undefined
  let residues: number
  if (settings.mode === 'denovo') {
    residues = settings.length!
  } else {
    if (!req.start) throw new Error(`${settings.mode} mode needs a starting sequence: pick a protein or paste one`)
    start = tokenize(req.start.sequence, req.start.id)
    residues = start.length - 2
  }
  if (residues > limits.window)
    throw new Error(
      `Steering runs whole sequences of at most ${limits.window} residues; this one has ${residues}. Pick a shorter protein or a fragment.`
    )
  const clamps = resolveSteeringPlan(
    { clamps: req.clamps },
    { dSae: limits.dSae, saeName: limits.saeName, residues, maxActivation: limits.maxActivation }
  )
  if (req.motif !== undefined && req.motif.trim() !== '') parseProsite(req.motif)
  return { start, residues, clamps }
}

/** Checks a request against the steered model and resolves its plan. */
export function prepareRequest(
  ctx: SteeringContext,
  req: SteeringRequest
): { start?: Int32Array; residues: number; clamps: ResolvedClamp[] } {
  return checkSteeringRequest(req, {
    window: ctx.steered.model.window,
    dSae: ctx.steered.sae.dSae,
    saeName: ctx.steered.sae.name,
    maxActivation: ctx.maxActivation
  })
}

export async function runSteering(
  ctx: SteeringContext,
  req: SteeringRequest,
  opts: { signal?: AbortSignal; onProgress?: (p: SteeringProgress) => void; runId?: string } = {}
): Promise<SteeringRunRecord> {
  const { start, clamps } = prepareRequest(ctx, req)
  const steered = ctx.steered
  const intervention = new FeatureIntervention(steered.sae, clamps)
  const tokens = await generateTokens(steered, intervention, start, req.settings, {
    signal: opts.signal,
    onProgress: p => opts.onProgress?.({ phase: 'generating', ...p })
  })
  const runId = opts.runId ?? randomUUID().slice(0, 8)
  const residues = tokens.map(t => detokenize(t))
  const motif = req.motif !== undefined && req.motif.trim() !== '' ? parseProsite(req.motif) : undefined
  const all = start ? [...tokens, start] : tokens
  const allResidues = start ? [...residues, detokenize(start)] : residues
  const scores = await scoreSequences(steered, clamps, all, allResidues, start, {
    pll: req.pll ?? true,
    motif,
    signal: opts.signal,
    onProgress: (done, total) => opts.onProgress?.({ phase: 'scoring', done, total })
  })
  return {
    id: runId,
    createdAt: new Date().toISOString(),
    provenance: provenanceOf(steered),
    parent: req.start && start ? { id: req.start.id, sequence: detokenize(start) } : undefined,
    clamps: req.clamps,
    resolvedValues: clamps.map(c => c.value),
    settings: req.settings,
    motif: motif?.source,
    sequences: tokens.map((_, i) => ({ id: `${runId}_${i + 1}`, sequence: residues[i], scores: scores[i] })),
    parentScores: start ? scores[tokens.length] : undefined
  }
}

export interface ProbabilityShift {
  /** The 20 amino acids in the order of the columns. */
  aminoAcids: string
  residues: number
  /** [residues, 20] probabilities (temperature 1) without and with the clamps. */
  unsteered: Float32Array
  steered: Float32Array
}

/** The live preview: per-position amino-acid probabilities of the sequence with and without the plan. */
export async function previewShift(
  ctx: SteeringContext,
  sequence: { id: string; sequence: string },
  clampSpecs: ClampSpec[]
): Promise<ProbabilityShift> {
  const tokens = tokenize(sequence.sequence, sequence.id)
  const L = tokens.length - 2
  const clamps = resolveSteeringPlan(
    { clamps: clampSpecs },
    { dSae: ctx.steered.sae.dSae, saeName: ctx.steered.sae.name, residues: L, maxActivation: ctx.maxActivation }
  )
  const V = ctx.steered.model.config.vocabSize
  const [plain] = await ctx.steered.unsteeredLogits([tokens])
  const [steered] = await ctx.steered.logits([tokens], new FeatureIntervention(ctx.steered.sae, clamps))
  const A = STANDARD_AMINO_ACIDS.length
  const un = new Float32Array(L * A)
  const st = new Float32Array(L * A)
  for (let r = 0; r < L; r++) {
    un.set(standardProbabilities(plain, r + 1, V, 1), r * A)
    st.set(standardProbabilities(steered, r + 1, V, 1), r * A)
  }
  return { aminoAcids: STANDARD_AMINO_ACIDS, residues: L, unsteered: un, steered: st }
}
