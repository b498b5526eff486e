/** Small file-system helpers shared by the engine and the workbench. */
import { mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

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
