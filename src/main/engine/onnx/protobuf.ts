/**
 * A minimal protocol-buffers encoder: just what writing ONNX models needs (varints, length-delimited
 * fields, packed repeated scalars). Messages are built bottom-up as byte arrays.
 */

export class ProtoWriter {
  private chunks: Uint8Array[] = []
  private scratch: number[] = []
  private length = 0

  private flushScratch(): void {
    if (this.scratch.length === 0) return
    const bytes = Uint8Array.from(this.scratch)
    this.chunks.push(bytes)
    this.length += bytes.length
    this.scratch = []
  }

  private varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value))
    while (v >= 0x80n) {
      this.scratch.push(Number(v & 0x7fn) | 0x80)
      v >>= 7n
    }
    this.scratch.push(Number(v))
  }

  private tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType)
  }

  int(field: number, value: number | bigint): this {
    this.tag(field, 0)
    this.varint(value)
    return this
  }

  float(field: number, value: number): this {
    this.tag(field, 5)
    const b = new Uint8Array(4)
    new DataView(b.buffer).setFloat32(0, value, true)
    this.scratch.push(...b)
    return this
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2)
    this.varint(value.length)
    this.flushScratch()
    this.chunks.push(value)
    this.length += value.length
    return this
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value))
  }

  message(field: number, value: ProtoWriter): this {
    return this.bytes(field, value.finish())
  }

  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtoWriter()
    for (const v of values) inner.varint(v)
    return this.bytes(field, inner.finish())
  }

  packedFloats(field: number, values: readonly number[]): this {
    const b = new Uint8Array(values.length * 4)
    const dv = new DataView(b.buffer)
    values.forEach((v, i) => dv.setFloat32(i * 4, v, true))
    return this.bytes(field, b)
  }

  finish(): Uint8Array {
    this.flushScratch()
    const out = new Uint8Array(this.length)
    let off = 0
    for (const c of this.chunks) {
      out.set(c, off)
      off += c.length
    }
    return out
  }
}
