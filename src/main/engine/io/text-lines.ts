/**
 * Line-by-line reading of a text file that may be gzipped (detected by its magic bytes, not its name).
 *
 * Hostile input is bounded: a line longer than `maxLineBytes` and a NUL byte (binary data) stop the reading
 * at once with an `InputLimitError` naming the file and line, so memory never grows with a line's length.
 * Empty lines (also "\r") are counted but not yielded, so a file of nothing but newlines is read at the
 * speed of the disk instead of one generator step per line.
 */
import { closeSync, createReadStream, openSync, readSync } from 'node:fs'
import { createGunzip } from 'node:zlib'
import type { Readable } from 'node:stream'

/** The default bound on one line (bytes, before the end of line). */
export const DEFAULT_MAX_LINE_BYTES = 1 << 20

const NEWLINES = Buffer.alloc(4096, 10)

export class InputLimitError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'InputLimitError'
  }
}

export interface ReadLinesOptions {
  /** The longest line accepted (default `DEFAULT_MAX_LINE_BYTES`). */
  maxLineBytes?: number
  /** Appended to the message of a too-long line: how to raise the bound. */
  raiseHint?: string
}

export function isGzipped(path: string): boolean {
  const fd = openSync(path, 'r')
  try {
    const b = Buffer.alloc(2)
    return readSync(fd, b, 0, 2, 0) === 2 && b[0] === 0x1f && b[1] === 0x8b
  } finally {
    closeSync(fd)
  }
}

function mib(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(bytes % (1 << 20) === 0 ? 0 : 1)} MiB` : `${bytes} bytes`
}

/** Yields [lineNumber (1-based), text] for each non-empty line (without its end of line); a UTF-8 byte-order mark before the first line is dropped. */
export async function* readLines(path: string, opts: ReadLinesOptions = {}): AsyncGenerator<[number, string]> {
  const max = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES
  let stream: Readable = createReadStream(path, { highWaterMark: 1 << 20 })
  if (isGzipped(path)) {
    const gunzip = createGunzip()
    stream.on('error', e => gunzip.destroy(e))
    stream = stream.pipe(gunzip)
  }
  let n = 0
  // The part of the current line seen so far, when it spans chunks.
  let carry: Buffer[] = []
  let carryBytes = 0
  const tooLong = (): InputLimitError =>
    new InputLimitError(
      `${path}:${n + 1}: the line is longer than ${mib(max)}; is this a FASTA or UniProt text file?` +
        (opts.raiseHint ? ` ${opts.raiseHint}` : '')
    )
  const text = (chunk: Buffer, start: number, end: number): string => {
    if (end > start && chunk[end - 1] === 13) end-- // "\r\n"
    if (carryBytes === 0) return end > start ? chunk.toString('utf8', start, end) : ''
    const parts = [...carry, chunk.subarray(start, end)]
    carry = []
    carryBytes = 0
    let line = Buffer.concat(parts)
    if (line.length > 0 && line[line.length - 1] === 13) line = line.subarray(0, line.length - 1)
    return line.toString('utf8')
  }
  try {
    let iterator: AsyncIterator<Buffer>
    try {
      iterator = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]()
    } catch (e) {
      throw new Error(`${path}: cannot read the file (${(e as Error).message})`, { cause: e })
    }
    for (;;) {
      let next: IteratorResult<Buffer>
      try {
        next = await iterator.next()
      } catch (e) {
        throw new Error(`${path}: could not read line ${n + 1} (${(e as Error).message}); is the file complete?`, {
          cause: e
        })
      }
      if (next.done) break
      const chunk = next.value
      const nul = chunk.indexOf(0)
      let start = 0
      for (;;) {
        const nl = chunk.indexOf(10, start)
        if (nul >= start && (nl < 0 || nul < nl)) {
          throw new InputLimitError(
            `${path}:${n + 1}: binary data (a NUL byte); protein inputs are FASTA or UniProt text files, plain or gzipped`
          )
        }
        if (nl < 0) break
        if (carryBytes + nl - start > max) throw tooLong()
        n++
        if (nl === start && carryBytes === 0) {
          // An empty line; skip a run of them a block at a time (a file of newlines reads at disk speed).
          start = nl + 1
          while (
            start + NEWLINES.length <= chunk.length &&
            chunk.compare(NEWLINES, 0, NEWLINES.length, start, start + NEWLINES.length) === 0
          ) {
            n += NEWLINES.length
            start += NEWLINES.length
          }
          continue
        }
        const line = text(chunk, start, nl)
        start = nl + 1
        if (line.length > 0) yield [n, n === 1 && line.charCodeAt(0) === 0xfeff ? line.slice(1) : line]
      }
      if (start < chunk.length) {
        carryBytes += chunk.length - start
        if (carryBytes > max) throw tooLong()
        carry.push(chunk.subarray(start))
      }
    }
    if (carryBytes > 0) {
      n++
      const line = text(Buffer.alloc(0), 0, 0)
      if (line.length > 0) yield [n, n === 1 && line.charCodeAt(0) === 0xfeff ? line.slice(1) : line]
    }
  } finally {
    stream.destroy()
  }
}
