/**
 * The common view of a file of named tensors (safetensors, a PyTorch zip pickle, ...): each tensor is read
 * lazily, so a multi-gigabyte checkpoint is never held in memory at once.
 */

/** Element types a checkpoint may store. Names follow the safetensors spelling. */
export type DType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL'

export const DTYPE_BYTES: Record<DType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1
}

export interface StoredTensor {
  readonly name: string
  readonly dtype: DType
  readonly shape: readonly number[]
  /** The values in row-major (C) order, converted to float32. */
  readFloat32(): Float32Array
}

export interface TensorArchive {
  /** Where the tensors come from, for error messages. */
  readonly source: string
  readonly tensors: ReadonlyMap<string, StoredTensor>
  close(): void
}

export function elementCount(shape: readonly number[]): number {
  let n = 1
  for (const d of shape) n *= d
  return n
}

const f16Table = (() => {
  // float16 -> float32 through bit manipulation, precomputed for all 65,536 values.
  const out = new Float32Array(65536)
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1
    const exp = (h >> 10) & 0x1f
    const frac = h & 0x3ff
    if (exp === 0) out[h] = sign * 2 ** -14 * (frac / 1024)
    else if (exp === 31) out[h] = frac ? NaN : sign * Infinity
    else out[h] = sign * 2 ** (exp - 15) * (1 + frac / 1024)
  }
  return out
})()

/** Converts little-endian raw bytes of a tensor to float32. `bytes` may be unaligned. */
export function toFloat32(bytes: Uint8Array, dtype: DType, count: number, context: string): Float32Array {
  const need = count * DTYPE_BYTES[dtype]
  if (bytes.byteLength < need) {
    throw new Error(
      `${context}: expected ${need} bytes of ${dtype} data, found ${bytes.byteLength}; the file is truncated or corrupt`
    )
  }
  const aligned = bytes.byteOffset % DTYPE_BYTES[dtype] === 0 ? bytes : bytes.slice(0, need)
  const buf = aligned.buffer
  const off = aligned.byteOffset
  switch (dtype) {
    case 'F32':
      return new Float32Array(buf.slice(off, off + need) as ArrayBuffer)
    case 'F64':
      return Float32Array.from(new Float64Array(buf, off, count))
    case 'F16': {
      const src = new Uint16Array(buf, off, count)
      const out = new Float32Array(count)
      for (let i = 0; i < count; i++) out[i] = f16Table[src[i]]
      return out
    }
    case 'BF16': {
      const src = new Uint16Array(buf, off, count)
      const bits = new Uint32Array(count)
      for (let i = 0; i < count; i++) bits[i] = src[i] << 16
      return new Float32Array(bits.buffer)
    }
    case 'I64': {
      const src = new BigInt64Array(buf, off, count)
      const out = new Float32Array(count)
      for (let i = 0; i < count; i++) out[i] = Number(src[i])
      return out
    }
    case 'I32':
      return Float32Array.from(new Int32Array(buf, off, count))
    case 'I16':
      return Float32Array.from(new Int16Array(buf, off, count))
    case 'I8':
      return Float32Array.from(new Int8Array(buf, off, count))
    case 'U8':
    case 'BOOL':
      return Float32Array.from(new Uint8Array(buf, off, count))
  }
}
