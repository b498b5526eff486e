/** Small file-system helpers shared by the engine and the workbench. */
import { existsSync, mkdirSync, readdirSync, renameSync, statfsSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { formatBytes } from '../../../shared/library-types'

/** The disk (or quota) is full: the message names the file, the space needed and what to do. */
export class DiskFullError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly neededBytes: number,
    options?: { cause?: unknown }
  ) {
    super(message, options)
    this.name = 'DiskFullError'
  }
}

/** True for "no space left" from the OS (ENOSPC, EDQUOT) or SQLite (SQLITE_FULL). */
export function isDiskFull(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL'
}

/** Free bytes on the disk holding `path` (its nearest existing folder), or undefined when unknown. */
export function freeBytes(path: string): number | undefined {
  let dir = path
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir)
  try {
    const s = statfsSync(dir)
    return s.bavail * s.bsize
  } catch {
    return undefined
  }
}

/**
 * A `DiskFullError` for `e` when it says the disk is full (else undefined): "writing <file> needs about N more
 * (M free there); free space on that disk, or set PLM_SAE_HOME to a folder on a disk with room". `kept` says
 * what is not lost (e.g. "what finished is kept; run the same command again to resume").
 */
export function diskFullError(e: unknown, file: string, neededBytes: number, kept: string): DiskFullError | undefined {
  if (!isDiskFull(e)) return undefined
  const free = freeBytes(file)
  return new DiskFullError(
    `The disk is full: writing ${file} needs about ${formatBytes(Math.max(1, neededBytes))} more` +
      (free !== undefined ? ` (${formatBytes(free)} free there)` : '') +
      '. Free space on that disk, or use a disk with room (set PLM_SAE_HOME to a folder there; on the command line also --db / --cache-dir), ' +
      `then run again; ${kept}.`,
    file,
    neededBytes,
    { cause: e }
  )
}

/**
 * Writes a file by writing a temporary sibling and renaming it into place, so a reader (or a crash) never sees
 * a half-written file. The parent folder is created when missing.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true })
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, data)
  renameSync(tmp, path)
}

/** Total size of the files under a folder, without following symlinks (0 when it does not exist). */
export function folderBytes(dir: string): number {
  let total = 0
  let entries
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return 0
  }
  for (const d of entries) {
    const p = join(dir, d.name)
    if (d.isDirectory()) total += folderBytes(p)
    else if (d.isFile()) total += statSync(p).size
  }
  return total
}
