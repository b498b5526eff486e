/**
 * Reading SAE tensors out of a checkpoint with shape checks and errors that say which file, which key, what
 * was expected and what to do. Shared by the per-format loaders (sae-preprint.ts, sae-saelens.ts, sae-interplm.ts,
 * sae-generic.ts).
 */
import { createHash } from 'node:crypto'
import { closeSync, openSync, readSync } from 'node:fs'
import type { TensorArchive } from '../formats/tensor-archive'

/** One dimension of an expected shape: a size, or a named size learned from the first tensor that has it. */
export type ExpectedDim = number | string

export class ShapeContext {
  private readonly sizes = new Map<string, number>()
  constructor(
    readonly archive: TensorArchive,
    /** What the file is supposed to be, for the hint at the end of a missing-key error. */
    readonly formatName: string,
    known: Record<string, number | undefined> = {},
    /** Where the known sizes came from (e.g. "config.json act_size/dict_size"). */
    readonly knownFrom = ''
  ) {
    for (const [k, v] of Object.entries(known)) if (v !== undefined) this.sizes.set(k, v)
  }

  size(name: string): number {
    const v = this.sizes.get(name)
    if (v === undefined) throw new Error(`internal: size ${name} is not known yet`)
    return v
  }

  has(key: string): boolean {
    return this.archive.tensors.has(key)
  }

  /** The tensor `key` as float32, row-major, after checking its shape. */
  read(key: string, shape: ExpectedDim[]): Float32Array {
    const t = this.archive.tensors.get(key)
    if (t === undefined) {
      const found = [...this.archive.tensors.keys()].slice(0, 12).join(', ')
      throw new Error(
        `${this.archive.source}: tensor "${key}" is missing; a ${this.formatName} SAE needs it (found: ${found || 'no tensors'}). ` +
          'Check that this is the right file, or convert the SAE to the generic layout (sae.json + sae.safetensors).'
      )
    }
    const ok =
      t.shape.length === shape.length &&
      shape.every((d, i) =>
        typeof d === 'number' ? t.shape[i] === d : (this.sizes.get(d) ?? t.shape[i]) === t.shape[i]
      )
    if (!ok) {
      const expected = shape
        .map(d => (typeof d === 'number' ? String(d) : this.sizes.has(d) ? `${d}=${this.sizes.get(d)}` : d))
        .join(', ')
      const from = this.knownFrom ? ` (sizes from ${this.knownFrom} and the other tensors)` : ''
      throw new Error(
        `${this.archive.source}: tensor "${key}" has shape [${t.shape.join(', ')}], expected [${expected}]${from}; the file does not match a ${this.formatName} SAE`
      )
    }
    shape.forEach((d, i) => {
      if (typeof d === 'string' && !this.sizes.has(d)) this.sizes.set(d, t.shape[i])
    })
    return t.readFloat32()
  }

  /** A scalar (0-d or single-element) tensor, or undefined when absent. */
  scalar(key: string): number | undefined {
    const t = this.archive.tensors.get(key)
    if (t === undefined) return undefined
    const v = t.readFloat32()
    if (v.length !== 1)
      throw new Error(`${this.archive.source}: "${key}" should be a single value, found shape [${t.shape.join(', ')}]`)
    return v[0]
  }
}

/** [rows, cols] row-major → [cols, rows] row-major. */
export function transpose(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols)
  const B = 64
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(rows, r0 + B)
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(cols, c0 + B)
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * rows + r] = src[r * cols + c]
    }
  }
  return out
}

/** sha256 (hex) of the files' bytes, in the given order. */
export function hashFiles(paths: string[]): string {
  const hash = createHash('sha256')
  const buf = Buffer.alloc(1 << 20)
  for (const p of paths) {
    const fd = openSync(p, 'r')
    try {
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, null)
        if (n === 0) break
        hash.update(buf.subarray(0, n))
      }
    } finally {
      closeSync(fd)
    }
  }
  return hash.digest('hex')
}

export function ones(n: number): Float32Array {
  return new Float32Array(n).fill(1)
}

/** A positive integer from a config value, or undefined when absent. */
export function configInt(value: unknown, key: string, file: string): number | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new Error(`${file}: "${key}" should be a non-negative integer, found ${JSON.stringify(value)}`)
  }
  return value
}

/** The encoder and decoder of the usual layout: W_enc [d_in, d_sae], b_enc [d_sae], W_dec [d_sae, d_in], b_dec [d_in]. */
export interface EncoderDecoder {
  dIn: number
  dSae: number
  encWeight: Float32Array
  encBias: Float32Array
  decWeight: Float32Array
  decBias: Float32Array
}

/**
 * Reads W_enc, b_enc, W_dec and b_dec (in that order, shapes checked against each other and the known sizes).
 * `tiedDecoder`: a missing W_dec is W_encᵀ.
 */
export function readEncoderDecoder(ctx: ShapeContext, opts: { tiedDecoder?: boolean } = {}): EncoderDecoder {
  const encWeight = ctx.read('W_enc', ['d_in', 'd_sae'])
  const encBias = ctx.read('b_enc', ['d_sae'])
  const dIn = ctx.size('d_in')
  const dSae = ctx.size('d_sae')
  const decWeight =
    opts.tiedDecoder && !ctx.has('W_dec') ? transpose(encWeight, dIn, dSae) : ctx.read('W_dec', ['d_sae', 'd_in'])
  const decBias = ctx.read('b_dec', ['d_in'])
  return { dIn, dSae, encWeight, encBias, decWeight, decBias }
}

/** The sizes a JSON config gives for a ShapeContext: `d_in` and `d_sae` (each optional). */
export function configSizes(
  cfg: { d_in?: unknown; d_sae?: unknown },
  configPath: string
): Record<string, number | undefined> {
  return { d_in: configInt(cfg.d_in, 'd_in', configPath), d_sae: configInt(cfg.d_sae, 'd_sae', configPath) }
}
