/**
 * The state of the steering panel as one typed reducer: the clamps, the starting sequence, the generation
 * settings, the running job, the project's runs and the run that is open. Pure (no React, no API), so the
 * rules — a feature is clamped once, a mode brings its sampling defaults, what a request carries — are one place.
 */
import type { PastedRecord } from '@shared/sequence-text'
import {
  DEFAULT_GENERATION,
  type ClampMode,
  type ClampSpec,
  type GenerationSettings,
  type SteeringRunRecord,
  type SteeringRunSummary
} from '@shared/steering-types'

/** One clamp as the panel edits it: the spec plus what the slider needs. */
export interface ClampRow {
  feature: number
  label: string
  /** The feature's max activation in the project (slider scale), 0 when unknown. */
  max: number
  mode: ClampMode
  value: number
  range: { start: number; end: number } | null
}

/** The sequence edit and resample modes start from. */
export interface StartSequence {
  id: string
  sequence: string
  /** The store accession when picked from the project. */
  accession?: string
  /** Every record of the paste it came from, when it held several (the others are offered). */
  pasted?: PastedRecord[]
}

export interface SteeringState {
  clamps: ClampRow[]
  start: StartSequence | null
  settings: GenerationSettings
  /** A PROSITE pattern the results are scored against ('' for none). */
  motif: string
  /** Score each sequence's pseudo-log-likelihood (one forward per residue: slow). */
  pll: boolean
  error: string | null
  /** The steering job started from this panel and the run it writes, until the job ends. */
  pending: { jobId: string; runId: string } | null
  runs: SteeringRunSummary[]
  run: SteeringRunRecord | null
  /** The id of the sequence of `run` compared with its parent. */
  compare: string | null
}

export type SteeringAction =
  | { type: 'add-clamp'; clamp: ClampRow }
  | { type: 'change-clamp'; index: number; clamp: ClampRow }
  | { type: 'remove-clamp'; index: number }
  | { type: 'set-start'; start: StartSequence | null }
  | { type: 'set-mode'; mode: GenerationSettings['mode'] }
  | { type: 'set-settings'; settings: Partial<Omit<GenerationSettings, 'mode'>> }
  | { type: 'set-motif'; motif: string }
  | { type: 'set-pll'; pll: boolean }
  | { type: 'set-error'; error: string | null }
  | { type: 'job-started'; jobId: string; runId: string }
  | { type: 'job-ended' }
  | { type: 'runs-loaded'; runs: SteeringRunSummary[] }
  | { type: 'run-opened'; run: SteeringRunRecord }
  | { type: 'compare'; id: string | null }

/** Sampling defaults per mode: edit is deterministic (argmax) like its preview; the sampling modes draw several. */
export const MODE_DEFAULTS: Record<GenerationSettings['mode'], Pick<GenerationSettings, 'temperature' | 'n'>> = {
  edit: { temperature: 0, n: 1 },
  resample: { temperature: 1, n: 10 },
  denovo: { temperature: 1, n: 10 }
}

/** Edit mode starts at argmax (temperature 0, one sequence): exactly the changes the preview shows. */
export const INITIAL_STEERING_STATE: SteeringState = {
  clamps: [],
  start: null,
  settings: { ...DEFAULT_GENERATION, ...MODE_DEFAULTS.edit, length: 100 },
  motif: '',
  pll: false,
  error: null,
  pending: null,
  runs: [],
  run: null,
  compare: null
}

/** A new clamp on `feature`: "set to" its project max (5 when the max is unknown). */
export function newClamp(feature: number, label: string, max: number): ClampRow {
  return { feature, label, max, mode: 'absolute', value: max > 0 ? max : 5, range: null }
}

export function steeringReducer(state: SteeringState, action: SteeringAction): SteeringState {
  switch (action.type) {
    case 'add-clamp':
      // a second add of the same feature (e.g. a second click while the first lookup ran) changes nothing
      return state.clamps.some(c => c.feature === action.clamp.feature)
        ? state
        : { ...state, clamps: [...state.clamps, action.clamp] }
    case 'change-clamp':
      return { ...state, clamps: state.clamps.map((c, k) => (k === action.index ? action.clamp : c)) }
    case 'remove-clamp':
      return { ...state, clamps: state.clamps.filter((_, k) => k !== action.index) }
    case 'set-start':
      return { ...state, start: action.start }
    case 'set-mode':
      return { ...state, settings: { ...state.settings, mode: action.mode, ...MODE_DEFAULTS[action.mode] } }
    case 'set-settings':
      return { ...state, settings: { ...state.settings, ...action.settings } }
    case 'set-motif':
      return { ...state, motif: action.motif }
    case 'set-pll':
      return { ...state, pll: action.pll }
    case 'set-error':
      return { ...state, error: action.error }
    case 'job-started':
      return { ...state, pending: { jobId: action.jobId, runId: action.runId } }
    case 'job-ended':
      return { ...state, pending: null }
    case 'runs-loaded':
      return { ...state, runs: action.runs }
    case 'run-opened':
      return { ...state, run: action.run }
    case 'compare':
      return { ...state, compare: action.id }
  }
}

export function toSpecs(clamps: ClampRow[]): ClampSpec[] {
  return clamps.map(c => ({ feature: c.feature, mode: c.mode, value: c.value, ...(c.range ? { range: c.range } : {}) }))
}

/** The `startSteering` request of the panel's state (the length only de novo, the start sequence only without). */
export function steeringRequest(projectId: string, state: SteeringState) {
  const { settings, start, motif, pll, clamps } = state
  return {
    projectId,
    clamps: toSpecs(clamps),
    settings: settings.mode === 'denovo' ? settings : { ...settings, length: undefined },
    pll,
    ...(motif.trim() ? { motif: motif.trim() } : {}),
    ...(settings.mode !== 'denovo' && start ? { start: { id: start.id, sequence: start.sequence } } : {})
  }
}

/** Generation needs a starting sequence except de novo, and no job of the panel running. */
export function canGenerate(state: SteeringState): boolean {
  return state.pending === null && (state.settings.mode === 'denovo' || state.start !== null)
}

/** The slider's range for a clamp's mode, on the feature's scale (10 when its max is unknown). */
export function sliderBounds(c: ClampRow): { min: number; max: number; step: number } {
  if (c.mode === 'multiple-of-max') return { min: 0, max: 5, step: 0.05 }
  const scale = c.max > 0 ? c.max : 10
  if (c.mode === 'add-to-natural') return { min: -2 * scale, max: 2 * scale, step: scale / 100 }
  return { min: 0, max: 3 * scale, step: scale / 100 }
}

/** A clamp switched to another mode, with that mode's neutral start value (× 1 max, add 0, set to max or 5). */
export function withMode(c: ClampRow, mode: ClampMode): ClampRow {
  return { ...c, mode, value: mode === 'multiple-of-max' ? 1 : mode === 'add-to-natural' ? 0 : c.max || 5 }
}
