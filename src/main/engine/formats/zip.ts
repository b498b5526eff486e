/**
 * A read-only zip reader that works through file offsets, so a multi-gigabyte archive (a PyTorch
 * checkpoint) is never read into memory: only the central directory is loaded, and entry data is read
 * on demand, in whole or in part.
 *
 * Supported: the end-of-central-directory record (with a trailing comment), Zip64 (locator, Zip64
 * end-of-central-directory record and the Zip64 extended-information extra field, for sizes and offsets
 * beyond 4 GiB), STORED entries (method 0, what `torch.save` writes; ranges are read straight from the
 * file) and DEFLATED entries (method 8; inflated in memory and CRC-checked, so only for small entries).
 * Not supported: encryption, split (multi-disk) archives, other compression methods.
 *
 * Format reference: PKWARE APPNOTE.TXT, sections 4.3.7 (local header), 4.3.12 (central directory),
 * 4.3.14-4.3.16 (Zip64 and classic end records), 4.5.3 (Zip64 extra field).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { crc32, inflateRawSync } from 'node:zlib'

export const ZIP_METHOD_STORED = 0
export const ZIP_METHOD_DEFLATED = 8

/** Deflated entries are inflated in memory; refuse anything larger than this (uncompressed). */
export const MAX_INFLATED_BYTES = 256 * 1024 * 1024

const SIG_LOCAL_HEADER = 0x04034b50
const SIG_CENTRAL_ENTRY = 0x02014b50
const SIG_EOCD = 0x06054b50
const SIG_ZIP64_EOCD = 0x06064b50
const SIG_ZIP64_LOCATOR = 0x07064b50
const EOCD_SIZE = 22
const ZIP64_LOCATOR_SIZE = 20
const ZIP64_EOCD_MIN_SIZE = 56
const CENTRAL_ENTRY_SIZE = 46
const LOCAL_HEADER_SIZE = 30
const MAX_COMMENT = 0xffff
const U16_MAX = 0xffff
const U32_MAX = 0xffffffff
const ZIP64_EXTRA_ID = 0x0001
const FLAG_ENCRYPTED = 0x0001
const FLAG_UTF8 = 0x0800
const READ_CHUNK = 1 << 30

export interface ZipEntry {
  readonly name: string
  /** 0 = stored, 8 = deflated. */
  readonly method: number
  readonly compressedSize: number
  /** Uncompressed size in bytes. */
  readonly size: number
  readonly crc32: number
  /** Absolute file offset of the entry's (possibly compressed) data. */
  readonly dataOffset: number
}

interface CentralRecord {
  name: string
  method: number
  flags: number
  compressedSize: number
  size: number
  crc32: number
  localHeaderOffset: number
}

interface DirectoryLocation {
  entryCount: number
  offset: number
  size: number
}

export class ZipReader {
  private readonly records = new Map<string, CentralRecord>()
  private readonly resolved = new Map<string, ZipEntry>()
  private closed = false

  private constructor(
    readonly path: string,
    private readonly fd: number,
    readonly fileSize: number
  ) {}

  /** Opens `path` and reads its central directory. Throws if it is not a readable zip archive. */
  static open(path: string): ZipReader {
    const fd = openSync(path, 'r')
    try {
      const reader = new ZipReader(path, fd, fstatSync(fd).size)
      reader.loadCentralDirectory()
      return reader
    } catch (e) {
      closeSync(fd)
      throw e
    }
  }

  /** Entry names in central-directory order. */
  entries(): string[] {
    return [...this.records.keys()]
  }

  /** The entry called `name` (its data offset is found from the local header on first use), or undefined. */
  entry(name: string): ZipEntry | undefined {
    const cached = this.resolved.get(name)
    if (cached) return cached
    const record = this.records.get(name)
    if (!record) return undefined
    const entry = this.resolveEntry(record)
    this.resolved.set(name, entry)
    return entry
  }

  /**
   * Reads `length` bytes (default: to the end) of the uncompressed data of `name`, starting at `start`.
   * Stored entries read just that range from the file; deflated entries are inflated whole first.
   */
  read(name: string, start = 0, length?: number): Uint8Array {
    const entry = this.entry(name)
    if (!entry)
      throw new Error(`${this.path}: no entry "${name}" in the zip archive (it has ${this.describeEntries()})`)
    const count = length ?? entry.size - start
    if (
      !Number.isSafeInteger(start) ||
      !Number.isSafeInteger(count) ||
      start < 0 ||
      count < 0 ||
      start + count > entry.size
    ) {
      throw new Error(
        `${this.path}: cannot read bytes [${start}, ${start + count}) of entry "${name}", which holds ${entry.size} bytes`
      )
    }
    if (entry.method === ZIP_METHOD_STORED) return this.readRange(entry.dataOffset + start, count, `entry "${name}"`)
    if (entry.method === ZIP_METHOD_DEFLATED) return this.inflate(entry).subarray(start, start + count)
    throw new Error(
      `${this.path}: entry "${name}" uses compression method ${entry.method}; only stored (0) and deflate (8) are supported. ` +
        'Re-create the archive without compression (torch.save does this by default).'
    )
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    closeSync(this.fd)
  }

  private describeEntries(): string {
    const names = this.entries()
    if (names.length === 0) return 'no entries'
    const shown = names
      .slice(0, 8)
      .map(n => `"${n}"`)
      .join(', ')
    return `${names.length} entries: ${shown}${names.length > 8 ? ', ...' : ''}`
  }

  private loadCentralDirectory(): void {
    const eocdOffset = this.findEndOfCentralDirectory()
    const location = this.locateCentralDirectory(eocdOffset)
    if (location.offset + location.size > eocdOffset) {
      throw new Error(
        `${this.path}: the central directory (${location.size} bytes at offset ${location.offset}) runs past its end record ` +
          `at offset ${eocdOffset}; the file is truncated or corrupt`
      )
    }
    const directory = this.readRange(location.offset, location.size, 'the central directory')
    this.parseCentralDirectory(directory, location)
  }

  /** Finds the classic end-of-central-directory record, which sits in the last 22 + 65535 bytes. */
  private findEndOfCentralDirectory(): number {
    const tailLength = Math.min(this.fileSize, EOCD_SIZE + MAX_COMMENT)
    const tailStart = this.fileSize - tailLength
    const tail = this.readRange(tailStart, tailLength, 'the end of the file')
    const view = dataView(tail)
    for (let i = tailLength - EOCD_SIZE; i >= 0; i--) {
      if (view.getUint32(i, true) !== SIG_EOCD) continue
      if (i + EOCD_SIZE + view.getUint16(i + 20, true) <= tailLength) return tailStart + i
    }
    const head = this.readRange(0, Math.min(4, this.fileSize), 'the start of the file')
    if (head.length === 4 && dataView(head).getUint32(0, true) === SIG_LOCAL_HEADER) {
      throw new Error(
        `${this.path}: the file starts like a zip archive but has no end-of-central-directory record; ` +
          `it is truncated (${this.fileSize} bytes) — an interrupted download or copy? Fetch the file again.`
      )
    }
    throw new Error(`${this.path}: not a zip file (no end-of-central-directory record in its ${this.fileSize} bytes)`)
  }

  private locateCentralDirectory(eocdOffset: number): DirectoryLocation {
    const eocd = dataView(this.readRange(eocdOffset, EOCD_SIZE, 'the end-of-central-directory record'))
    const classic: DirectoryLocation = {
      entryCount: eocd.getUint16(10, true),
      size: eocd.getUint32(12, true),
      offset: eocd.getUint32(16, true)
    }
    const zip64 = this.readZip64Location(eocdOffset)
    if (zip64) return zip64
    if (classic.entryCount === U16_MAX || classic.size === U32_MAX || classic.offset === U32_MAX) {
      throw new Error(
        `${this.path}: the end-of-central-directory record at offset ${eocdOffset} defers to Zip64, ` +
          'but there is no Zip64 locator before it; the file is corrupt'
      )
    }
    return classic
  }

  /** The Zip64 end record, if a Zip64 locator directly precedes the classic end record. */
  private readZip64Location(eocdOffset: number): DirectoryLocation | undefined {
    if (eocdOffset < ZIP64_LOCATOR_SIZE) return undefined
    const locator = dataView(this.readRange(eocdOffset - ZIP64_LOCATOR_SIZE, ZIP64_LOCATOR_SIZE, 'the Zip64 locator'))
    if (locator.getUint32(0, true) !== SIG_ZIP64_LOCATOR) return undefined
    const recordOffset = this.u64(locator, 8, 'the Zip64 end-record offset')
    if (recordOffset + ZIP64_EOCD_MIN_SIZE > eocdOffset - ZIP64_LOCATOR_SIZE) {
      throw new Error(
        `${this.path}: the Zip64 locator points to offset ${recordOffset}, outside the file's directory area; the file is corrupt`
      )
    }
    const record = dataView(
      this.readRange(recordOffset, ZIP64_EOCD_MIN_SIZE, 'the Zip64 end-of-central-directory record')
    )
    if (record.getUint32(0, true) !== SIG_ZIP64_EOCD) {
      throw new Error(
        `${this.path}: no Zip64 end-of-central-directory record at offset ${recordOffset}, where the locator points; the file is corrupt`
      )
    }
    return {
      entryCount: this.u64(record, 32, 'the Zip64 entry count'),
      size: this.u64(record, 40, 'the Zip64 central directory size'),
      offset: this.u64(record, 48, 'the Zip64 central directory offset')
    }
  }

  private parseCentralDirectory(directory: Uint8Array, location: DirectoryLocation): void {
    const view = dataView(directory)
    let pos = 0
    for (let i = 0; i < location.entryCount; i++) {
      const where = location.offset + pos
      if (pos + CENTRAL_ENTRY_SIZE > directory.length || view.getUint32(pos, true) !== SIG_CENTRAL_ENTRY) {
        throw new Error(
          `${this.path}: central directory entry ${i} of ${location.entryCount} at offset ${where} is missing or corrupt`
        )
      }
      const nameLength = view.getUint16(pos + 28, true)
      const extraLength = view.getUint16(pos + 30, true)
      const commentLength = view.getUint16(pos + 32, true)
      const end = pos + CENTRAL_ENTRY_SIZE + nameLength + extraLength + commentLength
      if (end > directory.length) {
        throw new Error(
          `${this.path}: central directory entry ${i} at offset ${where} runs past the end of the directory; the file is corrupt`
        )
      }
      const record = this.parseCentralEntry(directory, view, pos, nameLength, extraLength)
      this.records.set(record.name, record)
      pos = end
    }
  }

  private parseCentralEntry(
    directory: Uint8Array,
    view: DataView,
    pos: number,
    nameLength: number,
    extraLength: number
  ): CentralRecord {
    const flags = view.getUint16(pos + 8, true)
    const nameBytes = directory.subarray(pos + CENTRAL_ENTRY_SIZE, pos + CENTRAL_ENTRY_SIZE + nameLength)
    const name = Buffer.from(nameBytes).toString(flags & FLAG_UTF8 ? 'utf8' : 'latin1')
    const record: CentralRecord = {
      name,
      flags,
      method: view.getUint16(pos + 10, true),
      crc32: view.getUint32(pos + 16, true),
      compressedSize: view.getUint32(pos + 20, true),
      size: view.getUint32(pos + 24, true),
      localHeaderOffset: view.getUint32(pos + 42, true)
    }
    const extraStart = pos + CENTRAL_ENTRY_SIZE + nameLength
    this.applyZip64Extra(record, view, extraStart, extraStart + extraLength)
    return record
  }

  /** Replaces saturated (0xFFFFFFFF) sizes and offset by the 64-bit values of the Zip64 extra field. */
  private applyZip64Extra(record: CentralRecord, view: DataView, start: number, end: number): void {
    const needed = [record.size, record.compressedSize, record.localHeaderOffset].filter(v => v === U32_MAX).length
    if (needed === 0) return
    for (let pos = start; pos + 4 <= end;) {
      const id = view.getUint16(pos, true)
      const size = view.getUint16(pos + 2, true)
      if (id === ZIP64_EXTRA_ID) {
        if (size < needed * 8 || pos + 4 + size > end) break
        let field = pos + 4
        const next = (what: string): number => {
          const value = this.u64(view, field, `the Zip64 ${what} of "${record.name}"`)
          field += 8
          return value
        }
        if (record.size === U32_MAX) record.size = next('size')
        if (record.compressedSize === U32_MAX) record.compressedSize = next('compressed size')
        if (record.localHeaderOffset === U32_MAX) record.localHeaderOffset = next('header offset')
        return
      }
      pos += 4 + size
    }
    throw new Error(
      `${this.path}: entry "${record.name}" needs a Zip64 extra field for its sizes or offset but has no valid one; the file is corrupt`
    )
  }

  private resolveEntry(record: CentralRecord): ZipEntry {
    if (record.flags & FLAG_ENCRYPTED) {
      throw new Error(
        `${this.path}: entry "${record.name}" is encrypted, which is not supported; re-create the archive without a password`
      )
    }
    const header = dataView(
      this.readRange(record.localHeaderOffset, LOCAL_HEADER_SIZE, `the local header of "${record.name}"`)
    )
    if (header.getUint32(0, true) !== SIG_LOCAL_HEADER) {
      throw new Error(
        `${this.path}: no local header for entry "${record.name}" at offset ${record.localHeaderOffset}; the file is corrupt`
      )
    }
    // The local extra field may differ from the central one (torch pads it to align the data to 64 bytes).
    const dataOffset =
      record.localHeaderOffset + LOCAL_HEADER_SIZE + header.getUint16(26, true) + header.getUint16(28, true)
    if (dataOffset + record.compressedSize > this.fileSize) {
      throw new Error(
        `${this.path}: entry "${record.name}" needs bytes up to offset ${dataOffset + record.compressedSize}, ` +
          `but the file has only ${this.fileSize}; it is truncated — fetch it again`
      )
    }
    const { name, method, compressedSize, size, crc32: crc } = record
    return { name, method, compressedSize, size, crc32: crc, dataOffset }
  }

  private inflate(entry: ZipEntry): Uint8Array {
    if (entry.size > MAX_INFLATED_BYTES) {
      throw new Error(
        `${this.path}: entry "${entry.name}" is deflated and ${entry.size} bytes long; only deflated entries up to ` +
          `${MAX_INFLATED_BYTES} bytes are read. Re-create the archive with stored (uncompressed) entries.`
      )
    }
    const compressed = this.readRange(entry.dataOffset, entry.compressedSize, `entry "${entry.name}"`)
    let data: Buffer
    try {
      data = inflateRawSync(compressed, { maxOutputLength: Math.max(entry.size, 1) })
    } catch (e) {
      throw new Error(
        `${this.path}: entry "${entry.name}" could not be inflated (${(e as Error).message}); the file is corrupt`,
        { cause: e }
      )
    }
    if (data.length !== entry.size || crc32(data) !== entry.crc32) {
      throw new Error(
        `${this.path}: entry "${entry.name}" inflates to data that does not match its recorded size and CRC-32; the file is corrupt`
      )
    }
    return data
  }

  private readRange(offset: number, length: number, what: string): Uint8Array {
    if (this.closed) throw new Error(`${this.path}: the zip archive is closed (reading ${what})`)
    const out = Buffer.allocUnsafe(length)
    let done = 0
    while (done < length) {
      const n = readSync(this.fd, out, done, Math.min(length - done, READ_CHUNK), offset + done)
      if (n === 0) {
        throw new Error(
          `${this.path}: unexpected end of file at offset ${offset + done} while reading ${what}; the file is truncated`
        )
      }
      done += n
    }
    return out
  }

  private u64(view: DataView, pos: number, what: string): number {
    const value = view.getBigUint64(pos, true)
    if (value > BigInt(Number.MAX_SAFE_INTEGER))
      throw new Error(`${this.path}: ${what} (${value}) is too large; the file is corrupt`)
    return Number(value)
  }
}

function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
