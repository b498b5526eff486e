/**
 * The local copy of hub repositories, under the app data folder:
 *
 *   hub/{owner}--{name}/refs/{revision}          the commit sha a branch/tag resolved to at the last download
 *   hub/{owner}--{name}/{commit-sha}/{path...}   verified files only (renamed in place after verification)
 *   hub/{owner}--{name}/manifests/{sha}.json     the repository's file list at that commit (sizes, sha256s)
 *   hub/{owner}--{name}/downloads/{sha}/{path}.partial   bytes of an interrupted download, resumed next time
 *
 * A file under its final name has passed its size and checksum checks: a half-written or corrupt file only
 * ever exists as `.partial` in downloads/. Files placed by hand go in `hub/{owner}--{name}/{revision}/`
 * (e.g. `.../facebook--esm2_t6_8M_UR50D/main/`), which is used when no download of that revision exists.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { appDataDir } from '../fs/app-paths'
import type { RepoFile, RepoListing } from './hub-api'
import { folderBytes, writeFileAtomic } from '../fs/files'

export function hubCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return join(appDataDir(env), 'hub')
}

export function repoFolderName(repo: string): string {
  return repo.replace(/\//g, '--')
}

export function isCommitSha(revision: string): boolean {
  return /^[0-9a-f]{40}$/.test(revision)
}

export class RepoCache {
  readonly dir: string

  constructor(
    readonly root: string,
    readonly repo: string
  ) {
    this.dir = join(root, repoFolderName(repo))
  }

  snapshotDir(shaOrRevision: string): string {
    return join(this.dir, encodeURIComponent(shaOrRevision))
  }

  filePath(sha: string, path: string): string {
    return join(this.snapshotDir(sha), ...path.split('/'))
  }

  partialPath(sha: string, path: string): string {
    return `${join(this.dir, 'downloads', sha, ...path.split('/'))}.partial`
  }

  private refPath(revision: string): string {
    return join(this.dir, 'refs', encodeURIComponent(revision))
  }

  readRef(revision: string): string | undefined {
    if (isCommitSha(revision)) return revision
    try {
      const sha = readFileSync(this.refPath(revision), 'utf8').trim()
      return isCommitSha(sha) ? sha : undefined
    } catch {
      return undefined
    }
  }

  writeRef(revision: string, sha: string): void {
    if (revision === sha) return
    writeFileAtomic(this.refPath(revision), `${sha}\n`)
  }

  readManifest(sha: string): RepoListing | undefined {
    try {
      return JSON.parse(readFileSync(join(this.dir, 'manifests', `${sha}.json`), 'utf8')) as RepoListing
    } catch {
      return undefined
    }
  }

  writeManifest(listing: RepoListing): void {
    writeFileAtomic(join(this.dir, 'manifests', `${listing.sha}.json`), JSON.stringify(listing, null, 2))
  }

  /** Whether a verified copy of the file is present (final name, expected size). */
  hasFile(sha: string, file: RepoFile): boolean {
    try {
      return statSync(this.filePath(sha, file.path)).size === file.size
    } catch {
      return false
    }
  }

  /** Files present under a folder placed by hand (relative paths with "/"). */
  listHandPlaced(revision: string): RepoFile[] {
    const root = this.snapshotDir(revision)
    if (!existsSync(root)) return []
    return walk(root).map(p => ({ path: p, size: statSync(join(root, ...p.split('/'))).size }))
  }

  /** Bytes of `.partial` files waiting to be resumed. */
  partialBytes(): number {
    return folderBytes(join(this.dir, 'downloads'))
  }
}

export function walk(root: string, prefix = ''): string[] {
  const out: string[] = []
  for (const d of readdirSync(join(root, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${d.name}` : d.name
    if (d.isDirectory()) out.push(...walk(root, rel))
    else if (d.isFile() && !d.name.endsWith('.partial')) out.push(rel)
  }
  return out
}
