/**
 * Downloads a hub repository (or the files of it matching some patterns) into the cache (hub-cache.ts):
 * list the files through the API, fetch each with `GET {endpoint}/{repo}/resolve/{sha}/{path}` following
 * the hub's redirect to its CDN, append to a `.partial` file (resuming with `Range: bytes=N-` when one
 * exists), verify (LFS files: sha256 published by the hub; other files: git blob sha1 when the hub gives
 * the blob id; always the size), and only then rename the file to its final name.
 *
 * Offline (no network, or HF_HUB_OFFLINE=1), the cached snapshot is used if it holds every wanted file;
 * otherwise the error names the missing files, where to get them, and the folder to put them in.
 */
import type { DownloadProgress } from '../../../shared/library-types'
import { createHash, type Hash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, open, readFile, rename, stat, statfs, unlink, type FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'
import { HubError, isNetworkError } from './hub-errors'
import {
  authHeaders,
  encodePath,
  encodeRepo,
  hubFailure,
  hubSettings,
  listRepoFiles,
  type HubSettings,
  type RepoFile,
  type RepoListing
} from './hub-api'
import { httpGet } from './http-client'
import { hubCacheRoot, isCommitSha, RepoCache } from './hub-cache'
import { filterPaths } from './glob'

/** A download's progress as the fetcher reports it: the library's `DownloadProgress` without its entry id. */
export type HubProgress = Omit<DownloadProgress, 'entryId'>

export interface FetchRepoOptions {
  revision?: string
  /** fnmatch patterns; only matching files are fetched (e.g. `layer_4/*`, `*.json`). */
  include?: string[]
  /** Further narrows the (included) files once the listing is known, e.g. "model.safetensors, else pytorch_model.bin". */
  select?: (files: RepoFile[]) => RepoFile[]
  /** Cache root (default: `hub/` in the app data folder). */
  cacheRoot?: string
  /** Endpoint, token and environment (default: from process.env). */
  settings?: HubSettings
  signal?: AbortSignal
  onProgress?: (p: HubProgress) => void
  /** Automatic resume attempts per file after a dropped connection (default 3). */
  retries?: number
  /** Do not touch the network (also when HF_HUB_OFFLINE=1). */
  offline?: boolean
}

export interface CachedFile extends RepoFile {
  /** Absolute path of the verified file. */
  localPath: string
}

export interface FetchRepoResult {
  repo: string
  revision: string
  sha: string
  /** The folder holding the repository's files at that commit. */
  dir: string
  files: CachedFile[]
  /** Bytes transferred by this call (0 when everything was cached). */
  downloadedBytes: number
  /** True when the network was not used (offline, or unreachable with a complete cache). */
  fromCache: boolean
  /** True when the files come from a folder placed by hand (not verified against the hub). */
  handPlaced: boolean
}

/** Fetches a repository's files into the cache, or finds them there when offline. */
export async function fetchRepo(repo: string, opts: FetchRepoOptions = {}): Promise<FetchRepoResult> {
  const settings = opts.settings ?? hubSettings()
  const revision = opts.revision ?? 'main'
  const cache = new RepoCache(opts.cacheRoot ?? hubCacheRoot(settings.env), repo)
  const offline = opts.offline || /^(1|true|yes|on)$/i.test(settings.env.HF_HUB_OFFLINE ?? '')
  if (offline) return fromCache(cache, repo, revision, opts, settings)
  opts.onProgress?.({
    phase: 'listing',
    file: '',
    fileIndex: 0,
    fileCount: 0,
    bytesDone: 0,
    bytesTotal: 0,
    bytesPerSecond: 0,
    etaSeconds: null
  })
  let listing: RepoListing
  try {
    listing = await listRepoFiles(repo, revision, settings, opts.signal)
  } catch (e) {
    if (!isNetworkError(e)) throw e
    try {
      return fromCache(cache, repo, revision, opts, settings)
    } catch (offlineError) {
      const rest = (offlineError as Error).message.replace(/^offline: /, 'working offline, but ')
      throw new HubError('offline-missing', `${(e as Error).message}\n${rest}`, { cause: e })
    }
  }
  const wanted = selectFiles(listing.files, opts)
  if (wanted.length === 0) {
    throw new HubError(
      'entry-not-found',
      `no file of ${repo}@${revision} matches ${JSON.stringify(opts.include)} (the repository has: ${listing.files
        .slice(0, 20)
        .map(f => f.path)
        .join(', ')})`
    )
  }
  cache.writeManifest(listing)
  await checkFreeSpace(cache, listing, wanted)
  const meter = new RateMeter(wanted.reduce((n, f) => n + f.size, 0))
  for (let i = 0; i < wanted.length; i++) {
    const file = wanted[i]
    const report = (phase: HubProgress['phase']): void =>
      opts.onProgress?.({ phase, file: file.path, fileIndex: i, fileCount: wanted.length, ...meter.snapshot() })
    if (cache.hasFile(listing.sha, file)) {
      meter.skip(file.size)
      report('downloading')
      continue
    }
    await downloadWithRetries({ cache, listing, file, settings, meter, report }, opts)
  }
  cache.writeRef(revision, listing.sha)
  opts.onProgress?.({
    phase: 'done',
    file: '',
    fileIndex: wanted.length,
    fileCount: wanted.length,
    ...meter.snapshot()
  })
  return {
    repo,
    revision,
    sha: listing.sha,
    dir: cache.snapshotDir(listing.sha),
    files: wanted.map(f => ({ ...f, localPath: cache.filePath(listing.sha, f.path) })),
    downloadedBytes: meter.transferred,
    fromCache: false,
    handPlaced: false
  }
}

function selectFiles(files: RepoFile[], opts: Pick<FetchRepoOptions, 'include' | 'select'>): RepoFile[] {
  const included = filterPaths(files, opts.include)
  return opts.select ? opts.select(included) : included
}

/** The cached copy of a repository at a revision, without any network access. */
export function fromCache(
  cache: RepoCache,
  repo: string,
  revision: string,
  opts: Pick<FetchRepoOptions, 'include' | 'select'>,
  settings: HubSettings
): FetchRepoResult {
  const include = opts.include
  const sha = cache.readRef(revision)
  const manifest = sha ? cache.readManifest(sha) : undefined
  const byHand = cache.snapshotDir(revision)
  if (sha && manifest) {
    const wanted = selectFiles(manifest.files, opts)
    const missing = wanted.filter(f => !cache.hasFile(sha, f))
    if (missing.length === 0 && wanted.length > 0) {
      return {
        repo,
        revision,
        sha,
        dir: cache.snapshotDir(sha),
        files: wanted.map(f => ({ ...f, localPath: cache.filePath(sha, f.path) })),
        downloadedBytes: 0,
        fromCache: true,
        handPlaced: false
      }
    }
    const list = missing
      .slice(0, 10)
      .map(
        f =>
          `  ${settings.endpoint}/${repo}/resolve/${sha}/${f.path} (${f.size} bytes) → ${cache.filePath(sha, f.path)}`
      )
    throw new HubError(
      'offline-missing',
      `offline: ${missing.length} file(s) of ${repo}@${revision} are not in the cache yet. Connect and run \`plm-sae fetch ${repo}${revision !== 'main' ? ` --revision ${revision}` : ''}\`, or download them by hand and place them as follows:\n${list.join('\n')}`
    )
  }
  const placed = selectFiles(cache.listHandPlaced(revision), opts)
  if (placed.length > 0) {
    return {
      repo,
      revision,
      sha: revision,
      dir: byHand,
      files: placed.map(f => ({ ...f, localPath: cache.filePath(revision, f.path) })),
      downloadedBytes: 0,
      fromCache: true,
      handPlaced: true
    }
  }
  throw new HubError(
    'offline-missing',
    `offline: ${repo}@${revision}${include?.length ? ` (${include.join(', ')})` : ''} is not in the cache. Connect and run \`plm-sae fetch ${repo}${revision !== 'main' ? ` --revision ${revision}` : ''}\`, or download its files from ${settings.endpoint}/${repo}/tree/${revision} and put them in ${byHand}`
  )
}

/** Refuses to start when the disk cannot hold what is left to download (plus 1% and 16 MB of slack). */
async function checkFreeSpace(cache: RepoCache, listing: RepoListing, wanted: RepoFile[]): Promise<void> {
  let needed = 0
  for (const f of wanted) {
    if (cache.hasFile(listing.sha, f)) continue
    const have = await stat(cache.partialPath(listing.sha, f.path)).then(
      s => s.size,
      () => 0
    )
    needed += Math.max(0, f.size - have)
  }
  if (needed === 0) return
  await mkdir(cache.dir, { recursive: true })
  const fs = await statfs(cache.dir).catch(() => undefined)
  if (!fs) return
  const free = Number(fs.bavail) * Number(fs.bsize)
  const margin = needed * 0.01 + (16 << 20)
  if (free < needed + margin) {
    throw new HubError(
      'disk-full',
      `not enough disk space for ${listing.repo}: ${formatSize(needed)} to download, ${formatSize(free)} free on the disk of ${cache.dir}. Free some space (remove models you no longer use) or set PLM_SAE_HOME to a folder on a larger disk`
    )
  }
}

function formatSize(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${n} bytes`
}

/**
 * One download of a file at a time across processes (the app and the CLI may both be fetching): a
 * `.lock` file next to the `.partial` holds the owner's pid; a lock whose process is gone is taken over.
 */
async function withFileLock<T>(partial: string, what: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${partial}.lock`
  await mkdir(dirname(lock), { recursive: true })
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(lock, 'wx')
      await fh.writeFile(String(process.pid))
      await fh.close()
      break
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST' || attempt > 0) throw diskError(e, lock, 0) ?? e
      const pid = Number(await readFile(lock, 'utf8').catch(() => ''))
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
        throw new HubError(
          'busy',
          `${what} is already being downloaded by another process (pid ${pid}); wait for it to finish, or stop it`
        )
      }
      if (pid === process.pid) throw new HubError('busy', `${what} is already being downloaded by this app`)
      await unlink(lock).catch(() => undefined)
    }
  }
  try {
    return await fn()
  } finally {
    await unlink(lock).catch(() => undefined)
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM'
  }
}

/** One file of a repository to download: where it goes, what it is, the rate meter and the phase reports. */
interface FileDownload {
  cache: RepoCache
  listing: RepoListing
  file: RepoFile
  settings: HubSettings
  meter: RateMeter
  report: (phase: HubProgress['phase']) => void
}

async function downloadWithRetries(job: FileDownload, opts: FetchRepoOptions): Promise<void> {
  const { cache, listing, file, meter } = job
  const retries = opts.retries ?? 3
  for (let attempt = 0; ; attempt++) {
    const before = meter.done
    try {
      await withFileLock(cache.partialPath(listing.sha, file.path), `${listing.repo}/${file.path}`, () =>
        downloadFile(job, opts.signal)
      )
      return
    } catch (e) {
      meter.rewind(meter.done - before)
      if (!(e instanceof HubError) || e.code !== 'network' || attempt >= retries || opts.signal?.aborted) throw e
      await new Promise(r => setTimeout(r, Math.min(8000, 250 * 2 ** attempt)))
    }
  }
}

function checksumFor(file: RepoFile): { hash: Hash; expected: string; kind: string } | undefined {
  if (file.lfsSha256) return { hash: createHash('sha256'), expected: file.lfsSha256.toLowerCase(), kind: 'sha256' }
  if (file.blobId && /^[0-9a-f]{40}$/.test(file.blobId)) {
    const hash = createHash('sha1')
    hash.update(`blob ${file.size}\0`)
    return { hash, expected: file.blobId, kind: 'git blob sha1' }
  }
  return undefined
}

async function hashExisting(path: string, hash: Hash, bytes: number): Promise<void> {
  if (bytes === 0) return
  for await (const chunk of createReadStream(path, { start: 0, end: bytes - 1, highWaterMark: 4 << 20 }))
    hash.update(chunk as Buffer)
}

function diskError(e: unknown, path: string, needed: number): HubError | undefined {
  const code = (e as { code?: string }).code
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new HubError(
      'disk-full',
      `the disk is full writing ${path}: free at least ${needed} bytes (or set PLM_SAE_HOME to a larger disk) and run again; the part already downloaded is kept and resumes`,
      { cause: e }
    )
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new HubError('http', `cannot write ${path} (${code}): choose a writable data folder with PLM_SAE_HOME`, {
      cause: e
    })
  }
  return undefined
}

/** One attempt at one file. */
async function downloadFile(job: FileDownload, signal?: AbortSignal): Promise<void> {
  const { cache, listing, file, settings, meter, report } = job
  const partial = cache.partialPath(listing.sha, file.path)
  const final = cache.filePath(listing.sha, file.path)
  await mkdir(dirname(partial), { recursive: true })
  let have = await stat(partial).then(
    s => s.size,
    () => 0
  )
  if (have > file.size) have = 0
  let check = checksumFor(file)
  if (have > 0 && check) await hashExisting(partial, check.hash, have)
  meter.skip(have)
  if (have < file.size || file.size === 0) {
    const url = `${settings.endpoint}/${encodeRepo(listing.repo)}/resolve/${listing.sha}/${encodePath(file.path)}`
    const res = await httpGet(url, {
      env: settings.env,
      signal,
      ca: settings.ca,
      authHeaders: authHeaders(settings),
      headers: have > 0 ? { Range: `bytes=${have}-` } : {}
    })
    if (res.status === 416 && have === file.size) {
      res.body.resume()
    } else {
      if (res.status !== 200 && res.status !== 206)
        throw await hubFailure(res, { repo: listing.repo, revision: listing.revision, file: file.path, settings })
      const range = /^bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''))
      if (have > 0 && (res.status === 200 || !range || Number(range[1]) !== have)) {
        // The server ignored the range: start the file over.
        meter.rewind(have)
        have = 0
        check = checksumFor(file)
      }
      let fh: FileHandle
      try {
        fh = await open(partial, have > 0 ? 'a' : 'w')
      } catch (e) {
        res.body.destroy()
        throw diskError(e, partial, file.size) ?? e
      }
      let pos = have
      try {
        for await (const chunk of res.body) {
          const buf = chunk as Buffer
          if (pos + buf.length > file.size)
            throw new HubError('http', `the server sent more than the ${file.size} bytes listed for ${file.path}`)
          try {
            await fh.write(buf, 0, buf.length, null)
          } catch (e) {
            throw diskError(e, partial, file.size - pos) ?? e
          }
          check?.hash.update(buf)
          pos += buf.length
          meter.add(buf.length)
          report('downloading')
        }
        await fh.sync()
      } catch (e) {
        if (signal?.aborted)
          throw new HubError(
            'cancelled',
            `download of ${listing.repo}/${file.path} cancelled at ${pos} of ${file.size} bytes (kept; it resumes next time)`,
            { cause: e }
          )
        if (e instanceof HubError) throw e
        if (isNetworkError(e) || (e as Error).message === 'aborted') {
          throw new HubError(
            'network',
            `the connection dropped after ${pos} of ${file.size} bytes of ${listing.repo}/${file.path}; run the download again to resume from there`,
            { cause: e }
          )
        }
        throw e
      } finally {
        await fh.close()
      }
      if (pos !== file.size) {
        throw new HubError(
          'network',
          `the connection ended after ${pos} of ${file.size} bytes of ${listing.repo}/${file.path}; run the download again to resume from there`
        )
      }
    }
  }
  report('verifying')
  if (check) {
    const actual = check.hash.digest('hex')
    if (actual !== check.expected) {
      await unlink(partial).catch(() => undefined)
      throw new HubError(
        'checksum',
        `checksum mismatch for ${listing.repo}/${file.path}: the hub publishes ${check.kind} ${check.expected}, the downloaded bytes have ${actual}. The file was deleted; run the download again (if it keeps failing, a proxy or disk may be corrupting data)`
      )
    }
  }
  await mkdir(dirname(final), { recursive: true })
  await rename(partial, final)
}

/** Bytes done/total, a smoothed rate over the bytes actually transferred, and the ETA. */
export class RateMeter {
  done = 0
  /** Bytes received over the network (not counting resumed or cached bytes). */
  transferred = 0
  private readonly started = Date.now()
  private rate = 0
  private lastT = Date.now()
  private lastBytes = 0

  constructor(readonly total: number) {}

  skip(n: number): void {
    this.done += n
  }

  add(n: number): void {
    this.done += n
    this.transferred += n
    const now = Date.now()
    const dt = (now - this.lastT) / 1000
    if (dt >= 0.25) {
      const instant = (this.transferred - this.lastBytes) / dt
      this.rate = this.rate === 0 ? instant : 0.7 * this.rate + 0.3 * instant
      this.lastT = now
      this.lastBytes = this.transferred
    }
  }

  rewind(n: number): void {
    this.done = Math.max(0, this.done - n)
  }

  snapshot(): { bytesDone: number; bytesTotal: number; bytesPerSecond: number; etaSeconds: number | null } {
    const elapsed = (Date.now() - this.started) / 1000
    const rate = this.rate > 0 ? this.rate : elapsed > 0 ? this.transferred / elapsed : 0
    const left = Math.max(0, this.total - this.done)
    return {
      bytesDone: this.done,
      bytesTotal: this.total,
      bytesPerSecond: Math.round(rate),
      etaSeconds: left === 0 ? 0 : rate > 0 ? Math.round(left / rate) : null
    }
  }
}

export { isCommitSha }
