/** Line-by-line reading of a text file that may be gzipped (detected by its magic bytes, not its name). */
import { closeSync, createReadStream, openSync, readSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { createGunzip } from 'node:zlib'
import type { Readable } from 'node:stream'

export function isGzipped(path: string): boolean {
  const fd = openSync(path, 'r')
  try {
    const b = Buffer.alloc(2)
    return readSync(fd, b, 0, 2, 0) === 2 && b[0] === 0x1f && b[1] === 0x8b
  } finally {
    closeSync(fd)
  }
}

/** Yields [lineNumber (1-based), text] for each line; a UTF-8 byte-order mark before the first line is dropped. */
export async function* readLines(path: string): AsyncGenerator<[number, string]> {
  let stream: Readable = createReadStream(path, { highWaterMark: 1 << 20 })
  if (isGzipped(path)) {
    const gunzip = createGunzip()
    stream.on('error', (e) => gunzip.destroy(e))
    stream = stream.pipe(gunzip)
  }
  const rl = createInterface({ input: stream, crlfDelay: Infinity })
  let n = 0
  try {
    for await (const line of rl) yield [++n, n === 1 && line.charCodeAt(0) === 0xfeff ? line.slice(1) : line]
  } catch (e) {
    throw new Error(`${path}: could not read line ${n + 1} (${(e as Error).message}); is the file complete?`, { cause: e })
  } finally {
    rl.close()
    stream.destroy()
  }
}
