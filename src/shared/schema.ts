/**
 * The schema combinators every API request is defined with (src/shared/*-types.ts, api.ts): a schema is a
 * `Validator<T>`, a function that returns the value typed or throws a `ValidationError` naming the field path
 * (e.g. `request.clamps[2].feature: must be between 0 and 16777216, got -1`). Request types are derived from
 * their schemas (`type X = Infer<typeof XSchema>`), so a type and its check cannot drift apart. Small and
 * hand-written (JSON types, integer ranges, string lengths, enums from `as const` lists, unknown fields
 * rejected); no Node imports: the renderer bundles it too.
 */
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

/** How every surface words a refused request (HTTP 400 body, IPC error, CLI message). */
export function invalidRequestMessage(e: ValidationError): string {
  return `Invalid request: ${e.message}`
}

/** A validator returns the value (typed) or throws a ValidationError naming the field. */
export type Validator<T> = (value: unknown, at: string) => T

/** A short description of a value for messages (`"abc"`, `number 3`, `an array`). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : `"${value}"`
  if (typeof value === 'object') return 'an object'
  return `${typeof value} ${String(value)}`
}

export function str(opts: { min?: number; max: number; pattern?: RegExp; patternHint?: string }): Validator<string> {
  return (value, at) => {
    if (typeof value !== 'string') throw new ValidationError(at, `expected a string, got ${describeValue(value)}`)
    if (value.length < (opts.min ?? 0))
      throw new ValidationError(at, opts.min === 1 ? 'must not be empty' : `must have at least ${opts.min} characters`)
    if (value.length > opts.max)
      throw new ValidationError(at, `is too long (${value.length} characters, at most ${opts.max})`)
    if (opts.pattern && !opts.pattern.test(value))
      throw new ValidationError(at, opts.patternHint ?? `has an invalid format (${describeValue(value)})`)
    return value
  }
}

export function int(min: number, max: number): Validator<number> {
  return (value, at) => {
    if (typeof value !== 'number' || !Number.isInteger(value))
      throw new ValidationError(at, `expected a whole number, got ${describeValue(value)}`)
    if (value < min || value > max) throw new ValidationError(at, `must be between ${min} and ${max}, got ${value}`)
    return value
  }
}

export function num(min: number, max: number): Validator<number> {
  return (value, at) => {
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new ValidationError(at, `expected a finite number, got ${describeValue(value)}`)
    if (value < min || value > max) throw new ValidationError(at, `must be between ${min} and ${max}, got ${value}`)
    return value
  }
}

export const bool: Validator<boolean> = (value, at) => {
  if (typeof value !== 'boolean') throw new ValidationError(at, `expected true or false, got ${describeValue(value)}`)
  return value
}

export function oneOf<const T extends string>(choices: readonly T[]): Validator<T> {
  return (value, at) => {
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
      const list = choices.length > 8 ? `${choices.slice(0, 8).join(', ')}, ...` : choices.join(', ')
      throw new ValidationError(at, `must be one of ${list}; got ${describeValue(value)}`)
    }
    return value as T
  }
}

export function literal<const T extends string>(expected: T): Validator<T> {
  return oneOf([expected])
}

export function arrayOf<T>(item: Validator<T>, maxLength: number): Validator<T[]> {
  return (value, at) => {
    if (!Array.isArray(value)) throw new ValidationError(at, `expected an array, got ${describeValue(value)}`)
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
        throw new ValidationError(at, `expected ${hint}, got ${describeValue(value)}`)
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

/** The fields of an `obj` schema. */
export type Shape = Record<string, Validator<unknown> | Optional<unknown>>
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
    if (!isPlainObject(value)) throw new ValidationError(at, `expected an object, got ${describeValue(value)}`)
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
    if (!isPlainObject(value)) throw new ValidationError(at, `expected an object, got ${describeValue(value)}`)
    const t = value[tag]
    if (typeof t !== 'string' || !Object.prototype.hasOwnProperty.call(variants, t)) {
      throw new ValidationError(
        `${at}.${tag}`,
        `must be one of ${Object.keys(variants).join(', ')}; got ${describeValue(t)}`
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
    throw new ValidationError(
      at,
      `is not a valid id (${describeValue(s)}): ids use letters, digits and . _ : / @ + - only`
    )
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

/** The type a schema yields. */
export type Infer<V> = V extends Validator<infer T> ? T : never
/** The type `obj(shape)` yields (for shapes spread into several requests). */
export type InferShape<S extends Shape> = Out<S>

/** A schema with a further rule over the checked value (cross-field rules); `check` throws a ValidationError. */
export function refine<T>(validate: Validator<T>, check: (value: T, at: string) => void): Validator<T> {
  return (value, at) => {
    const out = validate(value, at)
    check(out, at)
    return out
  }
}

/** The message of what is wrong with `value` (field path first), or undefined when `schema` accepts it. */
export function problemOf<T>(schema: Validator<T>, value: unknown, at: string): string | undefined {
  try {
    schema(value, at)
    return undefined
  } catch (e) {
    if (e instanceof ValidationError) return e.message
    throw e
  }
}

/** Checks `value` against `schema`; errors name the path from `at` (e.g. "request", "design", "clamps"). */
export function parse<T>(schema: Validator<T>, value: unknown, at: string): T {
  return schema(value, at)
}

/** Limits of the values every request shares. */
export const MAX_FEATURE_ID = 1 << 24
export const MAX_RESIDUE = 100_000
export const MAX_FASTA_TEXT = 64 << 20
/** Pasted or uploaded text of a concept report (sequences are computed live). */
export const MAX_REPORT_TEXT = 4 << 20
export const MAX_LIVE_SEQUENCE = 100_000

/** A feature id (latent index); the engine then checks it against the SAE's width. */
export const featureId = int(0, MAX_FEATURE_ID)
export const fraction = num(0, 1)
/** A store run id. */
export const runId = int(1, 2 ** 31)
/** A pasted sequence (residues or one FASTA record, with a little room for its header and line breaks). */
export const sequenceText = longText(MAX_LIVE_SEQUENCE + 10_000, 1)

/** Residues `start`..`end`, 1-based and inclusive (as a person counts them). */
export const residueRange = refine(obj({ start: int(1, MAX_RESIDUE), end: int(1, MAX_RESIDUE) }), (r, at) => {
  if (r.end < r.start) throw new ValidationError(at, `end (${r.end}) is before start (${r.start})`)
})
