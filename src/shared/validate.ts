/**
 * Run-time validation of every API request (src/shared/api.ts) before it reaches the engine: Electron IPC and
 * the HTTP server both call `validateRequest`. Small hand-written validators: JSON types, integer ranges,
 * string lengths, enums; unknown fields are rejected. Ids are checked to be ids (no path separators
 * sequences like "..", no control characters); the renderer never sends a filesystem path.
 *
 * To add a method: add its entry to `requestValidators` (the compiler requires one per method of ApiMethods).
 */
import { API_METHODS, isApiMethod, type ApiMethod, type ApiRequest } from './api'
import { ANNOTATION_TYPES, type AnnotationType } from './store-types'
import { CLAMP_MODES, GENERATION_MODES, MAX_STEERING_CLAMPS, MAX_STEERING_N } from './steering-types'
import { checkExperimentDesign, MAX_EXPERIMENT_N, PLL_METHODS, type ExperimentDesign } from './experiment-types'
import { DEVICE_SETTINGS, SAE_FILE_FORMATS } from './library-types'

export class ValidationError extends Error {
  constructor(
    /** Where in the request, e.g. "request.sort.key". */
    readonly at: string,
    message: string
  ) {
    super(`${at}: ${message}`)
    this.name = 'ValidationError'
  }
}

/** A validator returns the value (typed) or throws a ValidationError naming the field. */
export type Validator<T> = (value: unknown, at: string) => T

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : `"${value}"`
  if (typeof value === 'object') return 'an object'
  return `${typeof value} ${String(value)}`
}

export function str(opts: { min?: number; max: number; pattern?: RegExp; patternHint?: string }): Validator<string> {
  return (value, at) => {
    if (typeof value !== 'string') throw new ValidationError(at, `expected a string, got ${describe(value)}`)
    if (value.length < (opts.min ?? 0))
      throw new ValidationError(at, opts.min === 1 ? 'must not be empty' : `must have at least ${opts.min} characters`)
    if (value.length > opts.max)
      throw new ValidationError(at, `is too long (${value.length} characters, at most ${opts.max})`)
    if (opts.pattern && !opts.pattern.test(value))
      throw new ValidationError(at, opts.patternHint ?? `has an invalid format (${describe(value)})`)
    return value
  }
}

export function int(min: number, max: number): Validator<number> {
  return (value, at) => {
    if (typeof value !== 'number' || !Number.isInteger(value))
      throw new ValidationError(at, `expected a whole number, got ${describe(value)}`)
    if (value < min || value > max) throw new ValidationError(at, `must be between ${min} and ${max}, got ${value}`)
    return value
  }
}

export function num(min: number, max: number): Validator<number> {
  return (value, at) => {
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new ValidationError(at, `expected a finite number, got ${describe(value)}`)
    if (value < min || value > max) throw new ValidationError(at, `must be between ${min} and ${max}, got ${value}`)
    return value
  }
}

export const bool: Validator<boolean> = (value, at) => {
  if (typeof value !== 'boolean') throw new ValidationError(at, `expected true or false, got ${describe(value)}`)
  return value
}

export function oneOf<const T extends string>(choices: readonly T[]): Validator<T> {
  return (value, at) => {
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
      const list = choices.length > 8 ? `${choices.slice(0, 8).join(', ')}, ...` : choices.join(', ')
      throw new ValidationError(at, `must be one of ${list}; got ${describe(value)}`)
    }
    return value as T
  }
}

export function literal<const T extends string>(expected: T): Validator<T> {
  return oneOf([expected])
}

export function arrayOf<T>(item: Validator<T>, maxLength: number): Validator<T[]> {
  return (value, at) => {
    if (!Array.isArray(value)) throw new ValidationError(at, `expected an array, got ${describe(value)}`)
    if (value.length > maxLength)
      throw new ValidationError(at, `has ${value.length} items, at most ${maxLength} allowed`)
    return value.map((v, i) => item(v, `${at}[${i}]`))
  }
}

export function either<A, B>(a: Validator<A>, b: Validator<B>, hint: string): Validator<A | B> {
  return (value, at) => {
    try {
      return a(value, at)
    } catch {
      try {
        return b(value, at)
      } catch {
        throw new ValidationError(at, `expected ${hint}, got ${describe(value)}`)
      }
    }
  }
}

/** Marks a field optional in `obj` (absent or undefined; null is not accepted). */
export interface Optional<T> {
  optional: true
  validate: Validator<T>
}
export function opt<T>(validate: Validator<T>): Optional<T> {
  return { optional: true, validate }
}

type Shape = Record<string, Validator<unknown> | Optional<unknown>>
type Out<S extends Shape> = {
  [K in keyof S as S[K] extends Optional<unknown> ? never : K]: S[K] extends Validator<infer T> ? T : never
} & {
  [K in keyof S as S[K] extends Optional<unknown> ? K : never]?: S[K] extends Optional<infer T> ? T : never
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

/** A plain object with exactly these fields (unknown fields are rejected). */
export function obj<S extends Shape>(shape: S): Validator<Out<S>> {
  return (value, at) => {
    if (!isPlainObject(value)) throw new ValidationError(at, `expected an object, got ${describe(value)}`)
    for (const key of Object.keys(value)) {
      if (!Object.prototype.hasOwnProperty.call(shape, key))
        throw new ValidationError(`${at}.${key}`, 'is not a known field')
    }
    const out: Record<string, unknown> = {}
    for (const [key, spec] of Object.entries(shape)) {
      const v = value[key]
      if ('optional' in spec) {
        if (v !== undefined) out[key] = spec.validate(v, `${at}.${key}`)
      } else {
        if (v === undefined) throw new ValidationError(`${at}.${key}`, 'is required')
        out[key] = spec(v, `${at}.${key}`)
      }
    }
    return out as Out<S>
  }
}

/** A union discriminated by a string field. */
export function tagged<const K extends string, V extends Record<string, Validator<unknown>>>(
  tag: K,
  variants: V
): Validator<{ [N in keyof V]: V[N] extends Validator<infer T> ? T : never }[keyof V]> {
  return (value, at) => {
    if (!isPlainObject(value)) throw new ValidationError(at, `expected an object, got ${describe(value)}`)
    const t = value[tag]
    if (typeof t !== 'string' || !Object.prototype.hasOwnProperty.call(variants, t)) {
      throw new ValidationError(
        `${at}.${tag}`,
        `must be one of ${Object.keys(variants).join(', ')}; got ${describe(t)}`
      )
    }
    return variants[t](value, at) as never
  }
}

// ------------------------------------------------------------------------------------------------ domain values

/** Whether `s` has a control character (C0 or DEL); `allowed` lists the ones that are fine (e.g. "\t\n\r"). */
function hasControl(s: string, allowed = ''): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if ((c < 0x20 || c === 0x7f) && !allowed.includes(s[i])) return true
  }
  return false
}

/**
 * An id the service looks up (project, job, structure, library entry): letters, digits and . _ : / @ + -,
 * 1..200 characters, no "..", no leading "/" and no backslash. It is never used as a path by the service.
 */
export const id: Validator<string> = (value, at) => {
  const s = str({ min: 1, max: 200 })(value, at)
  if (!/^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$/.test(s) || s.includes('..') || s.includes('//')) {
    throw new ValidationError(at, `is not a valid id (${describe(s)}): ids use letters, digits and . _ : / @ + - only`)
  }
  return s
}

/** A short line of text typed by a user (name, label, search): no control characters. */
export function text(max: number, min = 0): Validator<string> {
  return (value, at) => {
    const s = str({ min, max })(value, at)
    if (hasControl(s)) throw new ValidationError(at, 'must not contain control characters (line breaks, tabs, ...)')
    return s
  }
}

/** Multi-line text (notes, FASTA, PDB): tabs and line breaks allowed, other control characters not. */
export function longText(max: number, min = 0): Validator<string> {
  return (value, at) => {
    const s = str({ min, max })(value, at)
    if (hasControl(s, '\t\n\r')) throw new ValidationError(at, 'must not contain control characters')
    return s
  }
}

export const MAX_FEATURE_ID = 1 << 24
export const MAX_RESIDUE = 100_000
export const MAX_FASTA_TEXT = 64 << 20
/** Pasted or uploaded text of a concept report (sequences are computed live). */
export const MAX_REPORT_TEXT = 4 << 20
export const MAX_LIVE_SEQUENCE = 100_000

const runId = opt(int(1, 2 ** 31))
const featureId = int(0, MAX_FEATURE_ID)
const fraction = num(0, 1)
const annotationType: Validator<AnnotationType> = oneOf(ANNOTATION_TYPES)
const range = opt(((value, at) => {
  const r = obj({ start: int(1, MAX_RESIDUE), end: int(1, MAX_RESIDUE) })(value, at)
  if (r.end < r.start) throw new ValidationError(at, `end (${r.end}) is before start (${r.start})`)
  return r
}) as Validator<{ start: number; end: number }>)
const proteinRef = either(int(0, 2 ** 31), id, 'a protein id (number) or accession')

const featureFilters = {
  runId,
  sort: opt(
    obj({
      key: oneOf([
        'id',
        'label',
        'freqResidue',
        'freqProtein',
        'max',
        'meanNonzero',
        'bestF1',
        'concept',
        'bestF1Domain'
      ] as const),
      dir: oneOf(['asc', 'desc'] as const)
    })
  ),
  minFreqResidue: opt(fraction),
  maxFreqResidue: opt(fraction),
  minFreqProtein: opt(fraction),
  minMax: opt(num(-1e30, 1e30)),
  status: opt(oneOf(['all', 'alive', 'dead'] as const)),
  conceptType: opt(oneOf([...ANNOTATION_TYPES, 'any', 'none'] as const)),
  minF1: opt(fraction),
  minF1Domain: opt(fraction),
  text: opt(text(200)),
  ids: opt(arrayOf(featureId, 100_000))
}

const esmOrSae = oneOf(['esm2', 'sae'] as const)
const saeFormat = opt(oneOf(SAE_FILE_FORMATS))
const hubRepo = str({
  min: 1,
  max: 200,
  pattern: /^(?:[A-Za-z0-9][A-Za-z0-9._-]{0,95}\/)?[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/,
  patternHint: 'is not a Hugging Face repository id (expected "owner/name")'
})
const subfolder: Validator<string> = (value, at) => {
  const sub = str({
    max: 200,
    pattern: /^(?:[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*)?$/,
    patternHint: 'is not a folder inside a repository (letters, digits, . _ - separated by /)'
  })(value, at)
  if (sub.split('/').some(part => part === '.' || part === '..'))
    throw new ValidationError(at, 'must not contain "." or ".." segments')
  return sub
}
const revision = str({
  min: 1,
  max: 100,
  pattern: /^[A-Za-z0-9][A-Za-z0-9._/-]*$/,
  patternHint: 'is not a branch, tag or commit'
})

const empty = obj({})
const projectScoped = obj({ projectId: id })
const badRecordPolicy = opt(oneOf(['skip', 'stop'] as const))

// ------------------------------------------------------------------------------------------------- steering

const clampSpec = obj({
  feature: featureId,
  mode: oneOf(CLAMP_MODES),
  value: num(-1e6, 1e6),
  range
})
const clamps = arrayOf(clampSpec, MAX_STEERING_CLAMPS)
const steeringRunRef = {
  projectId: id,
  runId: str({ min: 1, max: 64, pattern: /^[A-Za-z0-9_-]+$/, patternHint: 'is not a steering run id' })
}
const steeringValidators = {
  steeringPreview: obj({ projectId: id, sequence: longText(MAX_LIVE_SEQUENCE + 10_000, 1), clamps }),
  startSteering: obj({
    projectId: id,
    start: opt(obj({ id: text(200, 1), sequence: longText(MAX_LIVE_SEQUENCE + 10_000, 1) })),
    clamps,
    settings: obj({
      mode: oneOf(GENERATION_MODES),
      n: int(1, MAX_STEERING_N),
      seed: int(0, 2 ** 31),
      temperature: num(0, 100),
      rounds: int(1, 10_000),
      maskFraction: num(1e-6, 1),
      length: opt(int(1, MAX_RESIDUE))
    }),
    motif: opt(text(500)),
    pll: bool
  }),
  listSteeringRuns: projectScoped,
  steeringRun: obj(steeringRunRef),
  exportSteeringRun: obj({ ...steeringRunRef, format: oneOf(['fasta', 'csv', 'json'] as const) })
}

// ---------------------------------------------------------------------------------------- steering experiments

const experimentDesignShape = obj({
  name: text(200, 1),
  start: tagged('kind', {
    proteins: obj({ kind: literal('proteins'), accessions: arrayOf(text(200, 1), 1000) }),
    sequences: obj({
      kind: literal('sequences'),
      sequences: arrayOf(obj({ id: text(200, 1), sequence: longText(MAX_LIVE_SEQUENCE + 10_000, 1) }), 1000)
    }),
    denovo: obj({ kind: literal('denovo'), length: int(1, MAX_RESIDUE) })
  }),
  generation: obj({
    mode: oneOf(GENERATION_MODES),
    temperature: num(0, 100),
    rounds: int(1, 10_000),
    maskFraction: num(1e-6, 1)
  }),
  n: int(2, MAX_EXPERIMENT_N),
  seed: int(0, 2 ** 31),
  clampSets: arrayOf(obj({ name: opt(text(200)), clamps }), 1000),
  screen: opt(
    obj({
      features: opt(arrayOf(featureId, 1000)),
      concept: opt(obj({ type: annotationType, top: int(1, 1000) })),
      clamp: obj({ mode: oneOf(CLAMP_MODES), value: num(-1e6, 1e6), range })
    })
  ),
  doses: arrayOf(num(0, 1e6), 100),
  controls: obj({ noClamp: bool, ablation: bool, randomDraws: int(0, 100) }),
  motif: opt(text(500)),
  pll: oneOf(PLL_METHODS),
  pllStride: opt(int(1, 10_000)),
  success: tagged('kind', {
    motif: obj({ kind: literal('motif') }),
    activation: obj({ kind: literal('activation'), threshold: opt(num(-1e9, 1e9)) })
  }),
  likelihoodMargin: opt(num(0, 1e6)),
  bootstrap: opt(int(100, 100_000)),
  permutations: opt(int(100, 1_000_000))
})
/** Every field checked by shape, then the design's own rules (checkExperimentDesign: cross-field ones). */
const experimentDesign: Validator<ExperimentDesign> = (value, at) => {
  const d = experimentDesignShape(value, at) as ExperimentDesign
  try {
    checkExperimentDesign(d)
  } catch (e) {
    throw new ValidationError(at, (e as Error).message)
  }
  return d
}
const experimentRef = {
  projectId: id,
  experimentId: str({ min: 1, max: 64, pattern: /^[A-Za-z0-9_-]+$/, patternHint: 'is not an experiment id' })
}
const experimentValidators = {
  startExperiment: obj({ projectId: id, design: experimentDesign }),
  listExperiments: projectScoped,
  experimentSummary: obj(experimentRef),
  experimentSequences: obj({
    ...experimentRef,
    conditionIndex: opt(int(0, 100_000)),
    offset: opt(int(0, 100_000_000)),
    limit: opt(int(1, 100_000))
  }),
  exportExperiment: obj({
    ...experimentRef,
    format: oneOf(['csv', 'json', 'fasta', 'html'] as const),
    conditionIndex: opt(int(0, 100_000))
  })
}

// ------------------------------------------------------------------------------------------- the request table

export const requestValidators: { [M in ApiMethod]: Validator<ApiRequest<M>> } = {
  appInfo: empty,
  setDevice: obj({ device: oneOf(DEVICE_SETTINGS) }),
  listModels: empty,
  addModel: tagged('source', {
    hub: obj({
      kind: esmOrSae,
      source: literal('hub'),
      repo: hubRepo,
      revision: opt(revision),
      subfolder: opt(subfolder),
      name: opt(text(200)),
      saeFormat,
      layer: opt(int(0, 100)),
      baseModelId: opt(id)
    }),
    'local-dialog': obj({
      kind: esmOrSae,
      source: literal('local-dialog'),
      name: opt(text(200)),
      saeFormat,
      layer: opt(int(0, 100)),
      baseModelId: opt(id)
    })
  }),
  removeModel: obj({ id }),
  downloadModel: obj({ id }),
  checkSaeFit: obj({
    saeId: id,
    modelId: opt(id),
    projectId: opt(id),
    layers: opt(oneOf(['declared', 'all'] as const))
  }),
  listProjects: empty,
  createProject: obj({
    name: text(120, 1),
    source: tagged('kind', {
      demo: obj({ kind: literal('demo') }),
      fasta: obj({ kind: literal('fasta'), text: longText(MAX_FASTA_TEXT, 1), fileName: opt(text(255, 1)) }),
      uniprot: obj({ kind: literal('uniprot'), text: longText(MAX_FASTA_TEXT, 1), fileName: opt(text(255, 1)) })
    }),
    modelId: id,
    saeId: id,
    index: opt(bool),
    onBadRecord: badRecordPolicy,
    falsePositives: opt(oneOf(['annotated', 'all'] as const))
  }),
  openProject: projectScoped,
  openStore: obj({ name: opt(text(120, 1)) }),
  startIndexJob: obj({
    projectId: id,
    onBadRecord: badRecordPolicy,
    falsePositives: opt(oneOf(['annotated', 'all'] as const))
  }),
  listJobs: empty,
  cancelJob: obj({ jobId: id }),
  storeInfo: projectScoped,
  listFeatures: obj({
    projectId: id,
    ...featureFilters,
    offset: opt(int(0, MAX_FEATURE_ID)),
    limit: opt(int(1, 20_000))
  }),
  featureOverview: obj({ projectId: id, runId }),
  featureDetail: obj({ projectId: id, runId, feature: featureId }),
  updateFeatureLabel: obj({
    projectId: id,
    runId,
    feature: featureId,
    label: opt(text(200)),
    notes: opt(longText(20_000))
  }),
  listProteins: obj({
    projectId: id,
    text: opt(text(200)),
    offset: opt(int(0, 100_000_000)),
    limit: opt(int(1, 1000))
  }),
  proteinDetail: obj({ projectId: id, protein: proteinRef }),
  proteinFeatures: obj({
    projectId: id,
    runId,
    protein: proteinRef,
    range,
    sortBy: opt(oneOf(['max', 'mean'] as const)),
    offset: opt(int(0, MAX_FEATURE_ID)),
    limit: opt(int(1, 20_000)),
    withTracks: opt(int(0, 200))
  }),
  liveFeatures: obj({
    projectId: id,
    runId,
    sequence: longText(MAX_LIVE_SEQUENCE + 10_000, 1),
    range,
    sortBy: opt(oneOf(['max', 'mean'] as const)),
    offset: opt(int(0, MAX_FEATURE_ID)),
    limit: opt(int(1, 20_000)),
    withTracks: opt(int(0, 200))
  }),
  exportFeatures: obj({ projectId: id, ...featureFilters, format: oneOf(['csv', 'json'] as const) }),
  conceptReport: obj({
    projectId: id,
    runId,
    text: longText(MAX_REPORT_TEXT, 1),
    floor: opt(fraction),
    minFraction: opt(fraction)
  }),
  listStructures: projectScoped,
  loadStructure: obj({ projectId: id, structureId: id }),
  ...steeringValidators,
  ...experimentValidators
}

/** Validates `request` for `method`; throws a ValidationError that names the bad field. */
export function validateRequest<M extends ApiMethod>(method: M, request: unknown): ApiRequest<M> {
  return requestValidators[method](request, 'request') as ApiRequest<M>
}

/** For transports: the method name from the wire, checked. */
export function validateMethod(name: unknown): ApiMethod {
  if (typeof name !== 'string' || !isApiMethod(name)) {
    throw new ValidationError(
      'method',
      `unknown API method ${describe(name)} (known: ${API_METHODS.length} methods, e.g. ${API_METHODS.slice(0, 3).join(', ')})`
    )
  }
  return name
}

/** `annotationType` is exported for other validators (steering, views) that take annotation types. */
export { annotationType }
