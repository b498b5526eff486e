/**
 * The compact on-disk encoding of one protein's SAE latents (one blob per run × protein).
 *
 * Layout (feature-major, "CSC"): all the entries of one feature sit together, so one feature's per-residue
 * track and per-feature aggregates over a residue range come out without expanding the whole protein.
 *
 *   u8      format version (1)
 *   varint  rows (residues)            varint  width (dSae)          varint  nFeatures (distinct firing)
 *   varint  × nFeatures  feature id deltas (increasing ids; first is the id itself)
 *   varint  × nFeatures  entry count of each feature
 *   varint  × nnz        residue deltas within each feature (first is the residue itself; 0-based)
 *   u16     × nnz        values as IEEE float16, little-endian, in the same order
 *
 * Values are rounded to float16 (relative error ≤ 2^-11 ≈ 4.9e-4; positive values below float16's smallest
 * subnormal are stored as that smallest value, so an entry that fired never reads back as 0).
 */
import type { SparseLatents } from '../sae/sparse-latents'

export const LATENT_CODEC_VERSION = 1

// ---------------------------------------------------------------------------------------------------------
// float16

const f32 = new Float32Array(1)
const u32 = new Uint32Array(f32.buffer)

/** float32 → float16 bits, round to nearest even; clamps to the largest finite half (65504). */
export function toHalf(value: number): number {
  f32[0] = value
  const x = u32[0]
  const sign = (x >>> 16) & 0x8000
  const exp = (x >>> 23) & 0xff
  let mant = x & 0x7fffff
  if (exp === 0xff) return sign | (mant ? 0x7e00 : 0x7bff) // NaN stays NaN, ±Inf clamps
  const e = exp - 127 + 15
  if (e >= 0x1f) return sign | 0x7bff
  if (e <= 0) {
    if (e < -10) return sign
    mant |= 0x800000
    const shift = 14 - e
    let half = mant >>> shift
    const rem = mant & ((1 << shift) - 1)
    const halfway = 1 << (shift - 1)
    if (rem > halfway || (rem === halfway && half & 1)) half++
    return sign | half
  }
  let half = (e << 10) | (mant >>> 13)
  const rem = mant & 0x1fff
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++
  if (half >= 0x7c00) return sign | 0x7bff
  return sign | half
}

const HALF_TABLE = (() => {
  const t = new Float32Array(65536)
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1
    const e = (h >>> 10) & 0x1f
    const m = h & 0x3ff
    if (e === 0) t[h] = s * m * 2 ** -24
    else if (e === 0x1f) t[h] = m ? NaN : s * Infinity
    else t[h] = s * (1 + m / 1024) * 2 ** (e - 15)
  }
  return t
})()

export function fromHalf(h: number): number {
  return HALF_TABLE[h & 0xffff]
}

/** The value a float32 reads back as after the store's encoding (for tests and references). */
export function roundTripValue(v: number): number {
  if (!(v > 0)) return fromHalf(toHalf(v))
  const h = toHalf(v)
  return fromHalf(h === 0 ? 1 : h)
}

// ---------------------------------------------------------------------------------------------------------
// varints

/** Growable byte buffer with varint / u8 / u16 / f32 writes. */
export class ByteWriter {
  buf: Uint8Array
  pos = 0
  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(16, capacity))
  }
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n))
    next.set(this.buf.subarray(0, this.pos))
    this.buf = next
  }
  varint(v: number): void {
    this.ensure(5)
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80
      v >>>= 7
    }
    this.buf[this.pos++] = v
  }
  u8(v: number): void {
    this.ensure(1)
    this.buf[this.pos++] = v
  }
  u16(v: number): void {
    this.ensure(2)
    this.buf[this.pos++] = v & 0xff
    this.buf[this.pos++] = v >>> 8
  }
  f32(v: number): void {
    this.ensure(4)
    f32[0] = v
    const x = u32[0]
    this.buf[this.pos++] = x & 0xff
    this.buf[this.pos++] = (x >>> 8) & 0xff
    this.buf[this.pos++] = (x >>> 16) & 0xff
    this.buf[this.pos++] = x >>> 24
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.pos)
  }
}

/** Reads what a ByteWriter wrote. */
export class ByteReader {
  pos = 0
  constructor(readonly buf: Uint8Array) {}
  varint(): number {
    const b = this.buf
    let v = 0
    let shift = 0
    for (;;) {
      if (this.pos >= b.length) throw new Error('latent blob is truncated (the store file may be damaged)')
      const byte = b[this.pos++]
      v += (byte & 0x7f) * 2 ** shift
      if (byte < 0x80) return v
      shift += 7
    }
  }
  u8(): number {
    if (this.pos >= this.buf.length) throw new Error('blob is truncated (the store file may be damaged)')
    return this.buf[this.pos++]
  }
  u16(): number {
    if (this.pos + 2 > this.buf.length) throw new Error('blob is truncated (the store file may be damaged)')
    const v = this.buf[this.pos] | (this.buf[this.pos + 1] << 8)
    this.pos += 2
    return v
  }
  f32(): number {
    if (this.pos + 4 > this.buf.length) throw new Error('blob is truncated (the store file may be damaged)')
    const b = this.buf
    u32[0] = (b[this.pos] | (b[this.pos + 1] << 8) | (b[this.pos + 2] << 16) | (b[this.pos + 3] << 24)) >>> 0
    this.pos += 4
    return f32[0]
  }
}

// ---------------------------------------------------------------------------------------------------------
// encode / decode

/** One protein's latents in feature-major order. */
export interface FeatureMajorLatents {
  rows: number
  width: number
  /** Distinct firing features, increasing. */
  featureIds: Uint32Array
  /** Entries of featureIds[i] are [start[i], start[i + 1]); length nFeatures + 1. */
  start: Uint32Array
  /** 0-based residue of each entry (increasing within a feature). */
  residues: Uint32Array
  values: Float32Array
}

/**
 * Counting sort of CSR entries by feature (stable, so residues stay increasing within a feature): entries per
 * feature (`counts[f + 1]`), where each feature's entries start (`offsets[f]`), each sorted entry's residue, and
 * where entry k of the CSR goes (`position[k]`).
 */
function sortByFeature(s: SparseLatents): {
  counts: Uint32Array
  offsets: Uint32Array
  residues: Uint32Array
  position: Uint32Array
} {
  const nnz = s.indptr[s.rows]
  const counts = new Uint32Array(s.width + 1)
  for (let k = 0; k < nnz; k++) counts[s.features[k] + 1]++
  const offsets = new Uint32Array(s.width + 1)
  for (let f = 0; f < s.width; f++) offsets[f + 1] = offsets[f] + counts[f + 1]
  const fill = offsets.slice(0, s.width)
  const residues = new Uint32Array(nnz)
  const position = new Uint32Array(nnz)
  for (let r = 0; r < s.rows; r++) {
    for (let k = s.indptr[r]; k < s.indptr[r + 1]; k++) {
      const at = fill[s.features[k]]++
      residues[at] = r
      position[k] = at
    }
  }
  return { counts, offsets, residues, position }
}

/** Encodes CSR latents (residue rows) into the store's blob. */
export function encodeLatents(s: SparseLatents): Uint8Array {
  const nnz = s.indptr[s.rows]
  const { counts, offsets, residues, position } = sortByFeature(s)
  let nFeatures = 0
  for (let f = 1; f <= s.width; f++) if (counts[f] > 0) nFeatures++
  const halves = new Uint16Array(nnz)
  for (let k = 0; k < nnz; k++) {
    const v = s.values[k]
    let h = toHalf(v)
    if (h === 0 && v > 0) h = 1
    halves[position[k]] = h
  }
  const w = new ByteWriter(16 + nFeatures * 3 + nnz * 4)
  w.u8(LATENT_CODEC_VERSION)
  w.varint(s.rows)
  w.varint(s.width)
  w.varint(nFeatures)
  let prev = 0
  for (let f = 0; f < s.width; f++) {
    if (counts[f + 1] === 0) continue
    w.varint(f - prev)
    prev = f
  }
  for (let f = 0; f < s.width; f++) if (counts[f + 1] > 0) w.varint(counts[f + 1])
  for (let f = 0; f < s.width; f++) {
    let last = 0
    for (let k = offsets[f]; k < offsets[f + 1]; k++) {
      w.varint(residues[k] - last)
      last = residues[k]
    }
  }
  for (let k = 0; k < nnz; k++) w.u16(halves[k])
  return w.buf.slice(0, w.pos)
}

/** Decodes a blob into feature-major form. */
export function decodeFeatureMajor(blob: Uint8Array): FeatureMajorLatents {
  const r = new ByteReader(blob)
  const version = blob[r.pos++]
  if (version !== LATENT_CODEC_VERSION)
    throw new Error(`latent blob has encoding version ${version}; this build reads version ${LATENT_CODEC_VERSION}`)
  const rows = r.varint()
  const width = r.varint()
  const nFeatures = r.varint()
  const featureIds = new Uint32Array(nFeatures)
  let id = 0
  for (let i = 0; i < nFeatures; i++) {
    id += r.varint()
    featureIds[i] = id
  }
  const start = new Uint32Array(nFeatures + 1)
  for (let i = 0; i < nFeatures; i++) start[i + 1] = start[i] + r.varint()
  const nnz = start[nFeatures]
  const residues = new Uint32Array(nnz)
  for (let i = 0; i < nFeatures; i++) {
    let res = 0
    for (let k = start[i]; k < start[i + 1]; k++) {
      res += r.varint()
      residues[k] = res
    }
  }
  const values = new Float32Array(nnz)
  let p = r.pos
  if (p + 2 * nnz > blob.length) throw new Error('latent blob is truncated (the store file may be damaged)')
  for (let k = 0; k < nnz; k++, p += 2) values[k] = HALF_TABLE[blob[p] | (blob[p + 1] << 8)]
  return { rows, width, featureIds, start, residues, values }
}

/** Index of `feature` in `m.featureIds`, or -1 when it does not fire in this protein. */
export function featureIndex(m: FeatureMajorLatents, feature: number): number {
  let lo = 0
  let hi = m.featureIds.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const v = m.featureIds[mid]
    if (v === feature) return mid
    if (v < feature) lo = mid + 1
    else hi = mid - 1
  }
  return -1
}

/** One feature's dense per-residue track (zeros where it does not fire). */
export function trackOf(m: FeatureMajorLatents, feature: number): Float32Array {
  const out = new Float32Array(m.rows)
  const i = featureIndex(m, feature)
  if (i < 0) return out
  for (let k = m.start[i]; k < m.start[i + 1]; k++) out[m.residues[k]] = m.values[k]
  return out
}

/** Back to CSR rows (as the LatentSource produced them, values rounded to float16). */
export function toSparseLatents(id: string, m: FeatureMajorLatents): SparseLatents {
  const nnz = m.residues.length
  const indptr = new Uint32Array(m.rows + 1)
  for (let k = 0; k < nnz; k++) indptr[m.residues[k] + 1]++
  for (let r = 0; r < m.rows; r++) indptr[r + 1] += indptr[r]
  const fill = indptr.slice(0, m.rows)
  const features = new Uint32Array(nnz)
  const values = new Float32Array(nnz)
  for (let i = 0; i < m.featureIds.length; i++) {
    for (let k = m.start[i]; k < m.start[i + 1]; k++) {
      const at = fill[m.residues[k]]++
      features[at] = m.featureIds[i]
      values[at] = m.values[k]
    }
  }
  return { id, rows: m.rows, width: m.width, indptr, features, values }
}

/** Feature-major form of CSR latents without the float16 rounding (for live sequences). */
export function featureMajorOf(s: SparseLatents): FeatureMajorLatents {
  const nnz = s.indptr[s.rows]
  const { counts, offsets, residues, position } = sortByFeature(s)
  const ids: number[] = []
  for (let f = 0; f < s.width; f++) if (counts[f + 1] > 0) ids.push(f)
  const values = new Float32Array(nnz)
  for (let k = 0; k < nnz; k++) values[position[k]] = s.values[k]
  const featureIds = Uint32Array.from(ids)
  const start = new Uint32Array(ids.length + 1)
  for (let i = 0; i < ids.length; i++) start[i + 1] = offsets[ids[i] + 1]
  return { rows: s.rows, width: s.width, featureIds, start, residues, values }
}

/** Appends a sparse track (firing residues + values): varint count, varint residue deltas, f16 values. */
export function writeTrack(
  w: ByteWriter,
  residues: ArrayLike<number>,
  values: ArrayLike<number>,
  from = 0,
  to = residues.length
): void {
  w.varint(to - from)
  let last = 0
  for (let k = from; k < to; k++) {
    w.varint(residues[k] - last)
    last = residues[k]
  }
  for (let k = from; k < to; k++) {
    let h = toHalf(values[k])
    if (h === 0 && values[k] > 0) h = 1
    w.u16(h)
  }
}

/** Reads a `writeTrack` track into a dense per-residue array of `length`. */
export function readTrack(r: ByteReader, length: number): number[] {
  const n = r.varint()
  const residues = new Array<number>(n)
  let res = 0
  for (let k = 0; k < n; k++) {
    res += r.varint()
    residues[k] = res
  }
  const out = new Array<number>(length).fill(0)
  for (let k = 0; k < n; k++) {
    const v = HALF_TABLE[r.u16()]
    if (residues[k] < length) out[residues[k]] = v
  }
  return out
}
