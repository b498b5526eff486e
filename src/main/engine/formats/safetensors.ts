/**
 * The safetensors format (https://huggingface.co/docs/safetensors): an 8-byte little-endian header size,
 * a JSON header `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`, then the data.
 * Reading is lazy (each tensor is read from its offset on demand); writing streams tensors to disk in the
 * order they are produced, with a header computed up front from the declared shapes.
 */
import { closeSync, fsyncSync, openSync, readSync, renameSync, writeSync, fstatSync, unlinkSync } from 'node:fs'
import { DTYPE_BYTES, elementCount, toFloat32 } from './tensor-archive'
import type { DType, StoredTensor, TensorArchive } from './tensor-archive'

const MAX_HEADER_BYTES = 100 * 1024 * 1024

interface HeaderEntry {
  dtype: DType
  shape: number[]
  data_offsets: [number, number]
}

export interface SafetensorsArchive extends TensorArchive {
  readonly metadata: Record<string, string>
}

export function openSafetensors(path: string): SafetensorsArchive {
  const fd = openSync(path, 'r')
  try {
    const fileSize = fstatSync(fd).size
    const sizeBuf = Buffer.alloc(8)
    if (readSync(fd, sizeBuf, 0, 8, 0) !== 8)
      throw new Error(`${path}: too short to be a safetensors file (${fileSize} bytes)`)
    const headerSize = Number(sizeBuf.readBigUInt64LE(0))
    if (headerSize > MAX_HEADER_BYTES || headerSize + 8 > fileSize) {
      throw new Error(
        `${path}: not a safetensors file (header size ${headerSize} does not fit in a ${fileSize}-byte file)`
      )
    }
    const headerBuf = Buffer.alloc(headerSize)
    readSync(fd, headerBuf, 0, headerSize, 8)
    let header: Record<string, unknown>
    try {
      header = JSON.parse(headerBuf.toString('utf8')) as Record<string, unknown>
    } catch (e) {
      throw new Error(`${path}: the safetensors header is not valid JSON (${(e as Error).message})`, { cause: e })
    }
    const dataStart = 8 + headerSize
    const metadata = (header.__metadata__ ?? {}) as Record<string, string>
    const tensors = new Map<string, StoredTensor>()
    for (const [name, raw] of Object.entries(header)) {
      if (name === '__metadata__') continue
      const entry = raw as HeaderEntry
      if (!(entry.dtype in DTYPE_BYTES))
        throw new Error(`${path}: tensor "${name}" has unsupported dtype ${entry.dtype}`)
      const [begin, end] = entry.data_offsets
      const count = elementCount(entry.shape)
      if (end - begin !== count * DTYPE_BYTES[entry.dtype] || dataStart + end > fileSize) {
        throw new Error(
          `${path}: tensor "${name}" (${entry.dtype} ${JSON.stringify(entry.shape)}) has inconsistent offsets [${begin}, ${end}]; the file is truncated or corrupt`
        )
      }
      tensors.set(name, {
        name,
        dtype: entry.dtype,
        shape: entry.shape,
        readFloat32: () => {
          const bytes = Buffer.alloc(end - begin)
          let done = 0
          while (done < bytes.length) {
            const n = readSync(fd, bytes, done, Math.min(bytes.length - done, 1 << 30), dataStart + begin + done)
            if (n === 0) throw new Error(`${path}: unexpected end of file reading "${name}"`)
            done += n
          }
          return toFloat32(bytes, entry.dtype, count, `${path}: tensor "${name}"`)
        }
      })
    }
    return { source: path, tensors, metadata, close: () => closeSync(fd) }
  } catch (e) {
    closeSync(fd)
    throw e
  }
}

export interface TensorDeclaration {
  name: string
  shape: number[]
}

/**
 * Writes float32 tensors whose names and shapes are declared up front. Offsets follow the declaration
 * order; `put` may come in any order and writes at the tensor's offset, so results can be streamed to disk
 * as they are computed. The file appears under its final name only when `finish()` succeeds.
 */
export class SafetensorsWriter {
  private readonly fd: number
  private readonly tmpPath: string
  private readonly offsets = new Map<string, { begin: number; shape: number[]; written: boolean }>()
  private readonly dataStart: number
  private closed = false

  constructor(
    private readonly path: string,
    declarations: TensorDeclaration[],
    metadata: Record<string, string> = {}
  ) {
    const header: Record<string, unknown> = {}
    if (Object.keys(metadata).length > 0) header.__metadata__ = metadata
    let offset = 0
    for (const d of declarations) {
      if (this.offsets.has(d.name)) throw new Error(`${path}: tensor name "${d.name}" is declared twice`)
      const bytes = elementCount(d.shape) * 4
      header[d.name] = { dtype: 'F32', shape: d.shape, data_offsets: [offset, offset + bytes] }
      this.offsets.set(d.name, { begin: offset, shape: d.shape, written: false })
      offset += bytes
    }
    let json = Buffer.from(JSON.stringify(header), 'utf8')
    const padded = Math.ceil(json.length / 8) * 8
    json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)])
    this.tmpPath = `${path}.partial`
    this.fd = openSync(this.tmpPath, 'w')
    const size = Buffer.alloc(8)
    size.writeBigUInt64LE(BigInt(json.length))
    writeSync(this.fd, size, 0, 8, 0)
    writeSync(this.fd, json, 0, json.length, 8)
    this.dataStart = 8 + json.length
  }

  put(name: string, data: Float32Array): void {
    const slot = this.offsets.get(name)
    if (!slot) throw new Error(`${this.path}: tensor "${name}" was not declared`)
    if (data.length !== elementCount(slot.shape)) {
      throw new Error(
        `${this.path}: tensor "${name}" has ${data.length} values, its shape ${JSON.stringify(slot.shape)} needs ${elementCount(slot.shape)}`
      )
    }
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    let done = 0
    while (done < bytes.length)
      done += writeSync(this.fd, bytes, done, bytes.length - done, this.dataStart + slot.begin + done)
    slot.written = true
  }

  finish(): void {
    const missing = [...this.offsets.entries()].filter(([, s]) => !s.written).map(([n]) => n)
    if (missing.length > 0) {
      this.abort()
      throw new Error(`${this.path}: ${missing.length} declared tensors were never written (first: "${missing[0]}")`)
    }
    fsyncSync(this.fd)
    closeSync(this.fd)
    this.closed = true
    renameSync(this.tmpPath, this.path)
  }

  abort(): void {
    if (this.closed) return
    this.closed = true
    closeSync(this.fd)
    try {
      unlinkSync(this.tmpPath)
    } catch {
      // already gone
    }
  }
}
