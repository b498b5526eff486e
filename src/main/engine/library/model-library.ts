/**
 * The model library: the built-in catalogue (catalogue.ts), the demo model and SAE (demo-models.ts), and the
 * entries the user added (a hub id, or a folder on this computer), with each entry's state on disk.
 *
 *   {dataDir}/library.json         user-added entries
 *   {dataDir}/library-state.json   last download error per entry, memoised sha256s of hand-placed files
 *   {dataDir}/hub/...              downloaded files (hub-cache.ts)
 *   {dataDir}/demo/...             the generated demo model and SAE
 *
 * Status is computed from the disk without a network (offline works): `ready` when every file the format
 * needs is in the cache and verified, `failed-verification` when a file differs from the known real one (the
 * ESM2-8M sha256s) or the last download failed its checksum, `downloading` while a download runs here.
 */
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs'
import { basename, isAbsolute, join, resolve } from 'node:path'
import { appDataDir } from '../fs/app-paths'
import { hubSettings, listRepoFiles, type HubSettings, type RepoFile } from '../hub/hub-api'
import { RepoCache } from '../hub/hub-cache'
import { folderBytes, writeFileAtomic } from '../fs/files'
import { fetchRepo, fromCache, type FetchRepoResult, type HubProgress } from '../hub/hub-download'
import { HubError } from '../hub/hub-errors'
import { missingShards, readShardIndex } from '../formats/sharded-archive'
import {
  checkAddEntryRequest,
  checkRepoId,
  formatBytes,
  type AddEntryRequest,
  type AppSettings,
  type DownloadProgress,
  type FileCheck,
  type HubSaeListing,
  type LibraryEntry,
  type LibraryEntryKind,
  type LibraryEntrySource,
  type RemoveEntryResult,
  type SaeFileFormat,
  type SaeFitCheck
} from '../../../shared/library-types'
import { parseInterprotName } from '../sae/sae-interprot'
import { listSaesInRepoFiles } from '../sae/sae-listing'
import { CATALOGUE, ESM2_8M_ID, hubEntryId, KNOWN_FILES, PREPRINT_SAE_ID } from './catalogue'
import {
  DEMO_ESM2_NAME,
  DEMO_ESM2_SHAPE,
  DEMO_SAE_LAYER,
  DEMO_SAE_NAME,
  demoModelPaths,
  demoReady,
  ensureDemoModels,
  type HiddenStatesRunner
} from './demo-models'
import { detectSaeFormat as detectRegisteredFormat, formatsSummary, saeFormatProvider } from '../sae/sae-formats'

export const DEMO_ESM2_ID = 'demo:esm2'
export const DEMO_SAE_ID = 'demo:sae'

/** What defines an entry (catalogue, demo or user-added); the rest of `LibraryEntry` is found on disk. */
type EntryDef = Omit<LibraryEntry, 'status' | 'diskBytes' | 'localPath' | 'revisionSha' | 'mismatches' | 'message'>

interface LibraryState {
  lastErrors: Record<string, { code: string; message: string; at: string }>
  hashes: Record<string, string>
  /** The last fit check of each SAE entry (recordFit). */
  fits: Record<string, SaeFitCheck>
}

export interface ModelLibraryOptions {
  dataDir?: string
  /** Hub cache root (default {dataDir}/hub). */
  hubRoot?: string
  /** Endpoint/token/proxy environment for downloads (default: from process.env). */
  hub?: HubSettings
  /** To generate the demo model and SAE: resources/esm, and how to run the model for calibration. */
  demo?: { esmResourcesDir: string; runHidden?: HiddenStatesRunner; modelCacheRoot?: string }
}

export interface DownloadOptions {
  signal?: AbortSignal
  onProgress?: (p: DownloadProgress) => void
}

/**
 * A model's weights, in the order Hugging Face's from_pretrained looks for them: for each format, one file,
 * else an index and its shards (model-00001-of-00002.safetensors, ...: large models such as ESM2 3B).
 */
const WEIGHT_LAYOUTS = [
  { file: 'model.safetensors', index: 'model.safetensors.index.json', shard: /^model-\d+-of-\d+\.safetensors$/ },
  { file: 'pytorch_model.bin', index: 'pytorch_model.bin.index.json', shard: /^pytorch_model-\d+-of-\d+\.bin$/ }
]

/** The weight files to fetch from a listing: one file, or an index with its shards (never two formats). */
function weightFiles(files: RepoFile[], prefix: string): RepoFile[] {
  const byPath = new Map(files.map(f => [f.path, f]))
  for (const layout of WEIGHT_LAYOUTS) {
    const single = byPath.get(prefix + layout.file)
    if (single) return [single]
    const index = byPath.get(prefix + layout.index)
    if (index)
      return [index, ...files.filter(f => f.path.startsWith(prefix) && layout.shard.test(f.path.slice(prefix.length)))]
  }
  return []
}

/** What a folder lacks of its weights: nothing when one weights file, or an index and all its shards, is there. */
function missingWeights(dir: string): string[] {
  for (const layout of WEIGHT_LAYOUTS) {
    if (existsSync(join(dir, layout.file))) return []
    const indexPath = join(dir, layout.index)
    if (!existsSync(indexPath)) continue
    try {
      const absent = missingShards(readShardIndex(indexPath))
      return absent.length > 0 ? [`${absent.join(', ')} (shards listed in ${layout.index})`] : []
    } catch (e) {
      return [`a readable ${layout.index} (${(e as Error).message})`]
    }
  }
  return ['model.safetensors (or pytorch_model.bin)']
}

const ESM2_SMALL_FILES = ['config.json', 'vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json']

function catalogueDefs(): EntryDef[] {
  return CATALOGUE.map(c => ({
    id: c.id,
    kind: c.kind,
    name: c.name,
    description: c.description,
    source: {
      kind: 'hub',
      repo: c.repo,
      revision: c.revision,
      ...(c.subfolder ? { subfolder: c.subfolder } : {}),
      ...(c.file ? { file: c.file } : {})
    },
    builtIn: true,
    demo: false,
    saeFormat: c.saeFormat,
    ...(c.saeK !== undefined ? { saeK: c.saeK } : {}),
    layer: c.layer,
    baseModelId: c.baseModelId,
    numLayers: c.numLayers,
    hiddenSize: c.hiddenSize,
    expectedBytes: c.expectedBytes
  }))
}

const DEMO_DEFS: EntryDef[] = [
  {
    id: DEMO_ESM2_ID,
    kind: 'esm2',
    name: DEMO_ESM2_NAME,
    description:
      'RANDOM WEIGHTS in the ESM2-8M shape and the real Hugging Face format, generated on this computer so the app can be tried without downloading a model. Its outputs and features mean nothing.',
    source: { kind: 'demo' },
    builtIn: true,
    demo: true,
    numLayers: DEMO_ESM2_SHAPE.layers,
    hiddenSize: DEMO_ESM2_SHAPE.hidden
  },
  {
    id: DEMO_SAE_ID,
    kind: 'sae',
    name: DEMO_SAE_NAME,
    description: `RANDOM WEIGHTS in the preprint's SAE format, on layer ${DEMO_SAE_LAYER} of the demo ESM2, with biases set so a few dozen latents fire per residue. For trying the app only.`,
    source: { kind: 'demo' },
    builtIn: true,
    demo: true,
    saeFormat: 'preprint',
    layer: DEMO_SAE_LAYER,
    baseModelId: DEMO_ESM2_ID
  }
]

/** Which files of a hub repository an entry needs. */
export function fileSelection(def: { kind: LibraryEntryKind; saeFormat?: SaeFileFormat; source: LibraryEntrySource }): {
  include?: string[]
  select?: (files: RepoFile[]) => RepoFile[]
} {
  const sub = def.source.kind === 'hub' ? def.source.subfolder : undefined
  const prefix = sub ? `${sub}/` : ''
  if (def.source.kind === 'hub' && def.source.file) return { include: [prefix + def.source.file] }
  const include = sub ? [`${sub}/*`] : undefined
  if (def.kind === 'esm2' || def.saeFormat === 'preprint') {
    const small = def.kind === 'esm2' ? ESM2_SMALL_FILES : ['config.json']
    return {
      include,
      select: files => {
        const byPath = new Map(files.map(f => [f.path, f]))
        return [
          ...small.map(s => byPath.get(prefix + s)).filter((f): f is RepoFile => f !== undefined),
          ...weightFiles(files, prefix)
        ]
      }
    }
  }
  return { include }
}

/** What is missing from a folder for the entry's format (empty when complete). */
export function missingFiles(dir: string, kind: LibraryEntryKind, format?: SaeFileFormat): string[] {
  const has = (f: string): boolean => existsSync(join(dir, f))
  const weights = missingWeights(dir)
  if (kind === 'esm2' || format === 'preprint') return [...(has('config.json') ? [] : ['config.json']), ...weights]
  if (format === 'generic') return ['sae.json', 'sae.safetensors'].filter(f => !has(f))
  if (format === 'interplm') return listPt(dir).length > 0 ? [] : ['ae_normalized.pt (or ae_unnormalized.pt)']
  if (format !== undefined)
    return detectSaeFormat(dir) === format
      ? []
      : [`the files of a ${saeFormatProvider(format).name} SAE: ${saeFormatProvider(format).files.replace(/`/g, '')}`]
  return detectSaeFormat(dir) ? [] : [`an SAE in one of these formats: ${formatsSummary()}`]
}

function listPt(dir: string): string[] {
  try {
    return readdirSync(dir).filter(f => f.endsWith('.pt'))
  } catch {
    return []
  }
}

/** Recognises an SAE file or folder's format (the SAE format registry). */
export function detectSaeFormat(path: string): SaeFileFormat | undefined {
  return detectRegisteredFormat(path)
}

/** A name usable as a folder name (letters, digits, "_", "-", "."), at most 60 characters. */
function safeFolderName(name: string): string {
  return (
    name
      .replace(/[^A-Za-z0-9_.-]+/g, '_')
      .replace(/^[._]+/, '')
      .slice(0, 60) || 'upload'
  )
}

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
  } catch {
    return undefined
  }
}

/** An entry for a folder of model or SAE files (local or uploaded), after checking the folder has what its format needs. */
function folderDef(
  req: AddEntryFields,
  path: string,
  source: LibraryEntrySource,
  id: string,
  description: string,
  shownName = basename(path)
): EntryDef {
  const format = req.kind === 'sae' ? (req.saeFormat ?? detectSaeFormat(path)) : undefined
  const missing = missingFiles(path, req.kind, format)
  if (missing.length > 0)
    throw new Error(
      `${shownName} is not a${req.kind === 'esm2' ? 'n ESM2 model folder' : 'n SAE folder'}: it lacks ${missing.join(', ')}`
    )
  const cfg = readJson(join(path, 'config.json'))
  const inner = (cfg?.cfg ?? cfg) as Record<string, unknown> | undefined
  return {
    id,
    kind: req.kind,
    name: req.name?.trim() || shownName,
    description,
    source,
    builtIn: false,
    demo: false,
    saeFormat: format,
    layer:
      req.layer ??
      (format === 'preprint' && typeof inner?.layer === 'number'
        ? inner.layer + 1
        : format === 'interplm'
          ? interplmLayer(shownName)
          : undefined),
    baseModelId: req.baseModelId,
    ...(req.kind === 'esm2' && typeof cfg?.num_hidden_layers === 'number'
      ? { numLayers: cfg.num_hidden_layers, hiddenSize: cfg.hidden_size as number }
      : {})
  }
}

/** The fields of an add request besides where the files come from. */
type AddEntryFields = Pick<AddEntryRequest, 'kind' | 'name' | 'saeFormat' | 'layer' | 'baseModelId'>

export class ModelLibrary {
  readonly dataDir: string
  readonly hubRoot: string
  private readonly hubOverride?: HubSettings
  private readonly active = new Map<string, { ctl: AbortController; progress?: DownloadProgress }>()

  constructor(private readonly opts: ModelLibraryOptions = {}) {
    this.dataDir = opts.dataDir ?? appDataDir()
    this.hubRoot = opts.hubRoot ?? join(this.dataDir, 'hub')
    this.hubOverride = opts.hub
  }

  /** Endpoint/token/CA from the environment, read when needed (a bad CA bundle fails the download, not the listing). */
  private get hub(): HubSettings {
    return this.hubOverride ?? hubSettings()
  }

  private hubForListing(): HubSettings {
    try {
      return this.hub
    } catch {
      return { ...hubSettings({ ...process.env, REQUESTS_CA_BUNDLE: '', SSL_CERT_FILE: '' }) }
    }
  }

  // ---- persistence -------------------------------------------------------------------------------------

  private get userPath(): string {
    return join(this.dataDir, 'library.json')
  }

  private get statePath(): string {
    return join(this.dataDir, 'library-state.json')
  }

  private userDefs(): EntryDef[] {
    const json = readJson(this.userPath)
    const entries = Array.isArray(json?.entries) ? (json.entries as EntryDef[]) : []
    return entries
      .filter(e => typeof e?.id === 'string' && (e.kind === 'esm2' || e.kind === 'sae') && e.source !== undefined)
      .map(e => ({ ...e, builtIn: false, demo: false }))
  }

  private saveUserDefs(defs: EntryDef[]): void {
    writeFileAtomic(this.userPath, `${JSON.stringify({ version: 1, entries: defs }, null, 2)}\n`)
  }

  private state(): LibraryState {
    const json = readJson(this.statePath) as Partial<LibraryState> | undefined
    return { lastErrors: json?.lastErrors ?? {}, hashes: json?.hashes ?? {}, fits: json?.fits ?? {} }
  }

  private saveState(s: LibraryState): void {
    writeFileAtomic(this.statePath, `${JSON.stringify(s, null, 2)}\n`)
  }

  private defs(): EntryDef[] {
    return [...catalogueDefs(), ...DEMO_DEFS, ...this.userDefs()]
  }

  private def(id: string): EntryDef {
    const d = this.defs().find(x => x.id === id)
    if (!d)
      throw new Error(
        `"${id}" is not in the model library (known: ${this.defs()
          .map(x => x.id)
          .slice(0, 8)
          .join(', ')}, ...)`
      )
    return d
  }

  /** Keeps the fit check of an SAE entry (shown with the entry until the next check or its removal). */
  recordFit(id: string, fit: SaeFitCheck): void {
    this.def(id)
    const state = this.state()
    state.fits[id] = fit
    this.saveState(state)
  }

  // ---- queries -----------------------------------------------------------------------------------------

  list(): LibraryEntry[] {
    const state = this.state()
    const out = this.defs().map(d => this.describe(d, state))
    this.saveHashesIfChanged(state)
    return out
  }

  get(id: string): LibraryEntry {
    const state = this.state()
    const e = this.describe(this.def(id), state)
    this.saveHashesIfChanged(state)
    return e
  }

  /** The folder holding a ready entry's files; otherwise an error that says what to download or where to put files. */
  localPath(id: string): string {
    const e = this.get(id)
    if ((e.status === 'ready' || e.status === 'failed-verification') && e.localPath) return e.localPath
    throw new Error(`${e.name} is not available: ${e.message ?? e.status}`)
  }

  private hashesDirty = false

  private saveHashesIfChanged(state: LibraryState): void {
    if (!this.hashesDirty) return
    this.hashesDirty = false
    const fresh = this.state()
    fresh.hashes = { ...fresh.hashes, ...state.hashes }
    this.saveState(fresh)
  }

  private fileSha256(path: string, state: LibraryState): string {
    const s = statSync(path)
    const key = `${path}|${s.size}|${s.mtimeMs}`
    let sha = state.hashes[key]
    if (!sha) {
      sha = createHash('sha256').update(readFileSync(path)).digest('hex')
      state.hashes[key] = sha
      this.hashesDirty = true
    }
    return sha
  }

  /** Files of a cached hub repository that differ from the published real ones. */
  private knownMismatches(repo: string, res: FetchRepoResult, state: LibraryState): FileCheck[] {
    const known = KNOWN_FILES[repo]
    if (!known) return []
    const out: FileCheck[] = []
    for (const f of res.files) {
      const k = known[f.path]
      if (!k) continue
      const actual = !res.handPlaced && f.lfsSha256 ? f.lfsSha256.toLowerCase() : this.fileSha256(f.localPath, state)
      if (actual !== k.sha256) out.push({ file: f.path, expectedSha256: k.sha256, actualSha256: actual })
    }
    return out
  }

  private hubDiskBytes(repo: string, subfolder?: string): number {
    const cache = new RepoCache(this.hubRoot, repo)
    if (!subfolder) return folderBytes(cache.dir)
    let total = 0
    for (const d of safeReaddir(cache.dir)) {
      if (d === 'downloads')
        for (const sha of safeReaddir(join(cache.dir, d))) total += folderBytes(join(cache.dir, d, sha, subfolder))
      else if (d !== 'refs' && d !== 'manifests') total += folderBytes(join(cache.dir, d, subfolder))
    }
    return total
  }

  private describe(d: EntryDef, state: LibraryState): LibraryEntry {
    const base: LibraryEntry = {
      id: d.id,
      kind: d.kind,
      name: d.name,
      description: d.description,
      source: d.source,
      builtIn: d.builtIn,
      demo: d.demo,
      ...(d.saeFormat ? { saeFormat: d.saeFormat } : {}),
      ...(d.saeK !== undefined ? { saeK: d.saeK } : {}),
      ...(d.layer !== undefined ? { layer: d.layer } : {}),
      ...(d.baseModelId ? { baseModelId: d.baseModelId } : {}),
      ...(d.numLayers ? { numLayers: d.numLayers } : {}),
      ...(d.hiddenSize ? { hiddenSize: d.hiddenSize } : {}),
      ...(d.expectedBytes ? { expectedBytes: d.expectedBytes } : {}),
      ...(state.fits[d.id] ? { fit: state.fits[d.id] } : {}),
      status: 'not-downloaded',
      diskBytes: 0
    }
    const running = this.active.get(d.id)
    if (d.source.kind === 'demo') {
      const dir = d.kind === 'esm2' ? demoModelPaths(this.dataDir).esm2Dir : demoModelPaths(this.dataDir).saeDir
      base.diskBytes = folderBytes(dir)
      if (demoReady(dir)) return { ...base, status: 'ready', localPath: dir }
      return {
        ...base,
        status: running ? 'downloading' : 'not-downloaded',
        message:
          'generated on this computer on first use (a few seconds, about 30 MB); random weights, for trying the app only'
      }
    }
    if (d.source.kind === 'local' || d.source.kind === 'upload') {
      const dir = d.source.path
      base.diskBytes = folderBytes(dir)
      if (!existsSync(dir))
        return {
          ...base,
          status: 'missing-files',
          message: `the folder ${dir} does not exist any more; put the files back or remove this entry`
        }
      const missing = missingFiles(dir, d.kind, d.saeFormat)
      if (missing.length > 0)
        return { ...base, status: 'missing-files', localPath: dir, message: `${dir} lacks ${missing.join(', ')}` }
      return { ...base, status: 'ready', localPath: dir }
    }
    const { repo, revision, subfolder } = d.source
    base.diskBytes = this.hubDiskBytes(repo, subfolder)
    const cache = new RepoCache(this.hubRoot, repo)
    let res: FetchRepoResult | undefined
    let offlineMessage = ''
    try {
      res = fromCache(cache, repo, revision, fileSelection(d), this.hubForListing())
    } catch (e) {
      offlineMessage = (e as Error).message.replace(/^offline: /, '')
    }
    if (running)
      return {
        ...base,
        status: 'downloading',
        message: running.progress
          ? `${formatBytes(running.progress.bytesDone)} of ${formatBytes(running.progress.bytesTotal)}`
          : 'starting'
      }
    if (res) {
      const folder = subfolder ? join(res.dir, ...subfolder.split('/')) : res.dir
      const dir = d.source.file ? join(folder, d.source.file) : folder
      const withSha = { ...base, localPath: dir, ...(res.handPlaced ? {} : { revisionSha: res.sha }) }
      const missing = missingFiles(dir, d.kind, d.saeFormat)
      if (missing.length > 0)
        return {
          ...withSha,
          status: 'missing-files',
          message: `${repo}${subfolder ? `/${subfolder}` : ''} lacks ${missing.join(', ')} for a ${d.kind === 'esm2' ? 'ESM2 model' : `${d.saeFormat ?? ''} SAE`}`
        }
      const mismatches = this.knownMismatches(repo, res, state)
      if (mismatches.length > 0) {
        return {
          ...withSha,
          status: 'failed-verification',
          mismatches,
          message: `${mismatches.map(m => m.file).join(', ')} ${mismatches.length === 1 ? 'differs' : 'differ'} from the published ${repo} (sha256 ${mismatches[0].actualSha256.slice(0, 12)}…, expected ${mismatches[0].expectedSha256.slice(0, 12)}…): these are not the real weights. Remove the entry's files and download again from huggingface.co.`
        }
      }
      return { ...withSha, status: 'ready' }
    }
    const last = state.lastErrors[d.id]
    if (last?.code === 'checksum') return { ...base, status: 'failed-verification', message: last.message }
    const partial = cache.partialBytes()
    const notes = [
      partial > 0 ? `an interrupted download (${formatBytes(partial)}) is kept and resumes` : '',
      last ? `last attempt failed: ${last.message}` : '',
      offlineMessage ? `to get it: ${offlineMessage}` : ''
    ].filter(s => s !== '')
    return { ...base, status: 'not-downloaded', message: notes.join('; ') }
  }

  // ---- changes -----------------------------------------------------------------------------------------

  add(req: AddEntryRequest): LibraryEntry {
    const bad = checkAddEntryRequest(req)
    if (bad) throw new Error(bad)
    let def: EntryDef
    if (req.source === 'hub') {
      const revision = req.revision?.trim() || 'main'
      const subfolder = req.subfolder?.replace(/\/+$/, '') || undefined
      const file = req.file
      const place = [subfolder, file].filter(Boolean).join('/') || undefined
      def = {
        id: hubEntryId(req.repo, place, revision),
        kind: req.kind,
        name: req.name?.trim() || `${req.repo}${place ? `/${place}` : ''}`,
        description: `Added from the Hugging Face hub: ${req.repo}${subfolder ? `, folder ${subfolder}` : ''}${file ? `, file ${file}` : ''}${revision !== 'main' ? `, revision ${revision}` : ''}.`,
        source: {
          kind: 'hub',
          repo: req.repo,
          revision,
          ...(subfolder ? { subfolder } : {}),
          ...(file ? { file } : {})
        },
        builtIn: false,
        demo: false,
        saeFormat:
          req.kind === 'sae'
            ? (req.saeFormat ??
              (file && parseInterprotName(file)
                ? 'interprot'
                : subfolder && /^layer_\d+$/.test(basename(subfolder))
                  ? 'interplm'
                  : 'preprint'))
            : undefined,
        layer: req.layer ?? (file ? parseInterprotName(file)?.layer : subfolder ? interplmLayer(subfolder) : undefined),
        baseModelId: req.baseModelId
      }
    } else {
      const path = resolve(req.path)
      if (!isAbsolute(path) || !existsSync(path) || !statSync(path).isDirectory())
        throw new Error(`${req.path}: no such folder (give the folder that holds the model or SAE files)`)
      def = folderDef(req, path, { kind: 'local', path }, `local:${path}`, `A folder on this computer: ${path}.`)
    }
    if (this.defs().some(d => d.id === def.id))
      throw new Error(`${def.id.replace(/^(hub|local):/, '')} is already in the library`)
    this.saveUserDefs([...this.userDefs(), stripUndefined(def)])
    return this.get(def.id)
  }

  /** Where uploaded folders are kept (`uploads/<name>-<uploadId>`); `uploads/.incoming` holds unfinished uploads. */
  get uploadsRoot(): string {
    return join(this.dataDir, 'uploads')
  }

  /**
   * Adds an uploaded folder (`incoming`, in `uploadsRoot/.incoming`): checks it like a local folder, then moves it
   * (one rename, same file system) to `uploadsRoot/<folder>-<uploadId>` and saves the entry. Throws, leaving the
   * incoming folder for the caller to delete, when the folder is not a model or SAE.
   */
  addUploaded(req: AddEntryFields, incoming: string, uploadId: string, folderName: string): LibraryEntry {
    const name = req.name?.trim() || folderName
    const final = join(this.uploadsRoot, `${safeFolderName(name)}-${uploadId}`)
    const id = `upload:${basename(final)}`
    if (this.defs().some(d => d.id === id)) throw new Error(`the upload ${uploadId} is already in the library`)
    folderDef(req, incoming, { kind: 'upload', path: final }, id, '', name)
    renameSync(incoming, final)
    try {
      const def = folderDef(
        req,
        final,
        { kind: 'upload', path: final },
        id,
        `A folder uploaded from the browser ("${folderName}"), kept in the app's data folder.`,
        name
      )
      this.saveUserDefs([...this.userDefs(), stripUndefined(def)])
    } catch (e) {
      rmSync(final, { recursive: true, force: true })
      throw e
    }
    return this.get(id)
  }

  /**
   * The SAEs a hub repository holds, from its file list at `revision` (nothing is downloaded): the choices of
   * the SAE picker, each added with `add({ source: 'hub', subfolder, file, saeFormat, layer })`.
   */
  async listHubSaes(repo: string, revision = 'main', signal?: AbortSignal): Promise<HubSaeListing> {
    const bad = checkRepoId(repo)
    if (bad) throw new Error(bad)
    const listing = await listRepoFiles(repo, revision, this.hubForListing(), signal)
    return {
      repo,
      revision,
      sha: listing.sha,
      choices: listSaesInRepoFiles(listing.files.map(f => f.path))
    }
  }

  /** Deletes an entry's downloaded files (never a local folder's) and, for user entries, the entry. */
  remove(id: string): RemoveEntryResult {
    const d = this.def(id)
    if (this.active.has(id)) throw new Error(`${d.name} is downloading; cancel the download first`)
    let freed = 0
    if (d.source.kind === 'hub') {
      const cache = new RepoCache(this.hubRoot, d.source.repo)
      const before = folderBytes(cache.dir)
      const sub = d.source.subfolder
      if (sub) {
        for (const name of safeReaddir(cache.dir)) {
          if (name === 'downloads')
            for (const sha of safeReaddir(join(cache.dir, name)))
              rmSync(join(cache.dir, name, sha, sub), { recursive: true, force: true })
          else if (name !== 'refs' && name !== 'manifests')
            rmSync(join(cache.dir, name, sub), { recursive: true, force: true })
        }
      } else {
        rmSync(cache.dir, { recursive: true, force: true })
      }
      freed = before - folderBytes(cache.dir)
    } else if (d.source.kind === 'upload') {
      freed = folderBytes(d.source.path)
      rmSync(d.source.path, { recursive: true, force: true })
    } else if (d.source.kind === 'demo') {
      const p = demoModelPaths(this.dataDir)
      const dir = d.kind === 'esm2' ? p.esm2Dir : p.saeDir
      freed = folderBytes(dir)
      rmSync(dir, { recursive: true, force: true })
    }
    const state = this.state()
    delete state.lastErrors[id]
    delete state.fits[id]
    this.saveState(state)
    const entryRemoved = !d.builtIn
    if (entryRemoved) this.saveUserDefs(this.userDefs().filter(x => x.id !== id))
    return { id, freedBytes: freed, entryRemoved }
  }

  /** Downloads (or, for the demo entries, generates) an entry's files. Resolves with its new state. */
  async download(id: string, opts: DownloadOptions = {}): Promise<LibraryEntry> {
    const d = this.def(id)
    if (this.active.has(id)) throw new Error(`${d.name} is already downloading`)
    if (d.source.kind === 'local' || d.source.kind === 'upload')
      throw new Error(`${d.name} is a folder on this computer; there is nothing to download`)
    const ctl = new AbortController()
    const onAbort = (): void => ctl.abort()
    opts.signal?.addEventListener('abort', onAbort)
    const slot: { ctl: AbortController; progress?: DownloadProgress } = { ctl }
    // The demo model and SAE are generated together.
    const ids = d.source.kind === 'demo' ? [DEMO_ESM2_ID, DEMO_SAE_ID] : [id]
    if (ids.some(x => this.active.has(x))) throw new Error(`${d.name} is already being prepared`)
    for (const x of ids) this.active.set(x, slot)
    try {
      if (d.source.kind === 'demo') {
        const demo = this.opts.demo
        if (!demo)
          throw new Error(
            'the demo model cannot be generated: the library was opened without the resources folder (resources/esm)'
          )
        let run = demo.runHidden
        if (!run)
          run = (await import('./demo-runtime')).onnxHiddenRunner(demo.modelCacheRoot ?? join(this.dataDir, 'models'))
        await ensureDemoModels(this.dataDir, demo.esmResourcesDir, run)
      } else {
        const { repo, revision } = d.source
        await fetchRepo(repo, {
          revision,
          ...fileSelection(d),
          cacheRoot: this.hubRoot,
          settings: this.hub,
          signal: ctl.signal,
          onProgress: (p: HubProgress) => {
            slot.progress = { entryId: id, ...p }
            opts.onProgress?.(slot.progress)
          }
        })
      }
      const state = this.state()
      delete state.lastErrors[id]
      this.saveState(state)
    } catch (e) {
      const state = this.state()
      state.lastErrors[id] = {
        code: e instanceof HubError ? e.code : 'error',
        message: (e as Error).message,
        at: new Date().toISOString()
      }
      this.saveState(state)
      throw e
    } finally {
      for (const x of ids) this.active.delete(x)
      opts.signal?.removeEventListener('abort', onAbort)
    }
    return this.get(id)
  }

  /** Cancels a running download (its partial file is kept and resumes next time). */
  cancel(id: string): boolean {
    const a = this.active.get(id)
    a?.ctl.abort()
    return a !== undefined
  }

  /**
   * What to open at start: the remembered model and SAE when still ready, else the real ESM2-8M and the
   * preprint SAE when present, else the demo pair. `demo` tells the UI to label the choice as random weights.
   */
  startupSelection(settings: AppSettings): { model?: LibraryEntry; sae?: LibraryEntry; demo: boolean } {
    const entries = this.list()
    const ready = (id?: string): LibraryEntry | undefined => entries.find(e => e.id === id && e.status === 'ready')
    let model = ready(settings.lastModelId) ?? ready(ESM2_8M_ID)
    let sae = ready(settings.lastSaeId)
    if (sae && model && sae.baseModelId && sae.baseModelId !== model.id && !sae.id.startsWith('local:')) sae = undefined
    if (model && !sae)
      sae = entries.find(
        e =>
          e.kind === 'sae' &&
          e.status === 'ready' &&
          e.baseModelId === model?.id &&
          (e.id === PREPRINT_SAE_ID || !e.demo)
      )
    if (!model) {
      model = ready(DEMO_ESM2_ID)
      sae = ready(DEMO_SAE_ID)
    }
    return { model, sae, demo: Boolean(model?.demo) }
  }
}

function interplmLayer(folder: string): number | undefined {
  const m = /^layer_(\d+)$/.exec(basename(folder))
  return m ? Number(m[1]) : undefined
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T
}
