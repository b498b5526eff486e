/**
 * Import of an ESM2 checkpoint into the model cache: its weights are rewritten once, in the layout the
 * ONNX graphs read (float32, linear weights as [in, out], q/k/v fused), to `weights.bin`, which every
 * graph references as ONNX external data (so models of any size, 3B included, load: the 2 GB protobuf
 * limit never applies). Cache entries are keyed by the checkpoint's content hash; a second start finds the
 * entry and does no work.
 */
import { createHash } from 'node:crypto'
import {
  closeSync,
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
  fsyncSync
} from 'node:fs'
import { join } from 'node:path'
import { assertFiniteWeights } from '../formats/tensor-check'
import { diskFullError } from '../fs/files'
import { openEsm2Checkpoint, BLOCK_PARAMS, type CheckpointFormat } from './esm2-checkpoint'
import { headDim, type Esm2Config } from './esm2-config'

/** Bump when the weights layout or the graphs change: older cache entries are then rebuilt. */
export const MODEL_CACHE_VERSION = 2

const ALIGN = 4096

export interface WeightEntry {
  offset: number
  length: number
  dims: number[]
}

export interface ImportedEsm2 {
  /** The cache folder of this model. */
  dir: string
  /** sha256 of the checkpoint's files. */
  hash: string
  /**
   * What this checkpoint is (see `Esm2Checkpoint.name`): the demo marker, `_name_or_path`, the hub repository
   * or the folder; never a published model's name only because the shape matches.
   */
  name: string
  source: string
  format: CheckpointFormat
  config: Esm2Config
  hasLmHead: boolean
  weightsFile: string
  weights: Record<string, WeightEntry>
}

export interface ImportProgress {
  phase: 'hashing' | 'converting' | 'done'
  done: number
  total: number
}

export interface ImportOptions {
  onProgress?: (p: ImportProgress) => void
  signal?: AbortSignal
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new Error('model import cancelled')
}

/** sha256 over the files, memoised by (path, size, mtime) so that unchanged files are not read again. */
async function contentHash(files: string[], cacheRoot: string, opts: ImportOptions): Promise<string> {
  const memoPath = join(cacheRoot, 'content-hashes.json')
  let memo: Record<string, string>
  try {
    memo = JSON.parse(readFileSync(memoPath, 'utf8')) as Record<string, string>
  } catch {
    memo = {}
  }
  const key = files
    .map(f => {
      const s = statSync(f)
      return `${realpathSync(f)}|${s.size}|${s.mtimeMs}`
    })
    .join(';')
  if (memo[key]) return memo[key]
  const total = files.reduce((n, f) => n + statSync(f).size, 0)
  const hash = createHash('sha256')
  let done = 0
  for (const f of files) {
    for await (const chunk of createReadStream(f, { highWaterMark: 8 << 20 })) {
      throwIfAborted(opts.signal)
      hash.update(chunk as Buffer)
      done += (chunk as Buffer).length
      opts.onProgress?.({ phase: 'hashing', done, total })
    }
  }
  const digest = hash.digest('hex')
  memo[key] = digest
  writeFileSync(memoPath, JSON.stringify(memo, null, 1))
  return digest
}

/** Row-major [rows, cols] -> [cols, rows]. */
function transpose(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(src.length)
  for (let r = 0; r < rows; r++) {
    const base = r * cols
    for (let c = 0; c < cols; c++) out[c * rows + r] = src[base + c]
  }
  return out
}

function scale(src: Float32Array, s: number): Float32Array {
  const out = new Float32Array(src.length)
  for (let i = 0; i < src.length; i++) out[i] = src[i] * s
  return out
}

/** [H, 3H]: the fused q|k|v projection, q pre-multiplied by head_dim^-0.5 as HF does before rotary. */
function fuseQkv(q: Float32Array, k: Float32Array, v: Float32Array, H: number): Float32Array {
  const out = new Float32Array(H * 3 * H)
  const parts = [transpose(q, H, H), transpose(k, H, H), transpose(v, H, H)]
  for (let r = 0; r < H; r++)
    for (let p = 0; p < 3; p++) out.set(parts[p].subarray(r * H, (r + 1) * H), r * 3 * H + p * H)
  return out
}

export function modelCacheDir(cacheRoot: string, hash: string): string {
  return join(cacheRoot, `esm2-${hash.slice(0, 16)}-v${MODEL_CACHE_VERSION}`)
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Removes what an import (or an atomic file write) killed part-way left in the model cache: `*.partial-<pid>`
 * folders and `*.<pid>.tmp` files whose process no longer runs (a running import of another process is left
 * alone). Called at the start of every import, so leftovers never outlive the next start. Returns what it removed.
 */
export function cleanModelCache(cacheRoot: string): string[] {
  const removed: string[] = []
  const visit = (dir: string, depth: number): void => {
    let entries
    try {
      entries = readdirSync(dir, { withFileTypes: true })
    } catch {
      return
    }
    for (const d of entries) {
      const p = join(dir, d.name)
      const m = /\.partial-(\d+)$/.exec(d.name) ?? /\.(\d+)\.tmp$/.exec(d.name)
      if (m && Number(m[1]) !== process.pid && !processAlive(Number(m[1]))) {
        rmSync(p, { recursive: true, force: true })
        removed.push(p)
      } else if (d.isDirectory() && depth > 0) visit(p, depth - 1)
    }
  }
  visit(cacheRoot, 1)
  return removed
}

export function readImportedEsm2(dir: string): ImportedEsm2 | undefined {
  const manifest = join(dir, 'manifest.json')
  if (!existsSync(manifest)) return undefined
  const m = JSON.parse(readFileSync(manifest, 'utf8')) as ImportedEsm2
  return { ...m, dir, weightsFile: join(dir, 'weights.bin') }
}

/**
 * Imports a checkpoint (Hugging Face folder or fair-esm .pt) into `cacheRoot`, or returns the existing
 * entry. Writing goes to a temporary folder renamed into place at the end, so a crash or a cancel never
 * leaves a half-written entry that could be taken for a good one.
 */
export async function importEsm2(
  checkpointPath: string,
  cacheRoot: string,
  opts: ImportOptions = {}
): Promise<ImportedEsm2> {
  mkdirSync(cacheRoot, { recursive: true })
  cleanModelCache(cacheRoot)
  const ckpt = openEsm2Checkpoint(checkpointPath)
  try {
    const hash = await contentHash(ckpt.files, cacheRoot, opts)
    const dir = modelCacheDir(cacheRoot, hash)
    const existing = readImportedEsm2(dir)
    if (existing) {
      opts.onProgress?.({ phase: 'done', done: 1, total: 1 })
      // The cache is keyed by content: the same bytes may come from another folder under another name.
      return { ...existing, name: ckpt.name, source: ckpt.source }
    }
    const tmp = `${dir}.partial-${process.pid}`
    rmSync(tmp, { recursive: true, force: true })
    mkdirSync(tmp, { recursive: true })
    const c = ckpt.config
    const H = c.hiddenSize
    const F = c.intermediateSize
    const V = c.vocabSize
    const read = (name: string) => ckpt.params.get(name)!.readFloat32()
    const jobs: [string, number[], () => Float32Array][] = [['embed', [V, H], () => read('embed')]]
    const qScale = headDim(c) ** -0.5
    for (let l = 0; l < c.numLayers; l++) {
      const p = (n: (typeof BLOCK_PARAMS)[number]) => read(`layer.${l}.${n}`)
      jobs.push(
        [`layer.${l}.ln1.w`, [H], () => p('ln1.w')],
        [`layer.${l}.ln1.b`, [H], () => p('ln1.b')],
        [`layer.${l}.qkv.w`, [H, 3 * H], () => fuseQkv(scale(p('q.w'), qScale), p('k.w'), p('v.w'), H)],
        [`layer.${l}.qkv.b`, [3 * H], () => Float32Array.from([...scale(p('q.b'), qScale), ...p('k.b'), ...p('v.b')])],
        [`layer.${l}.out.w`, [H, H], () => transpose(p('out.w'), H, H)],
        [`layer.${l}.out.b`, [H], () => p('out.b')],
        [`layer.${l}.ln2.w`, [H], () => p('ln2.w')],
        [`layer.${l}.ln2.b`, [H], () => p('ln2.b')],
        [`layer.${l}.fc1.w`, [H, F], () => transpose(p('fc1.w'), F, H)],
        [`layer.${l}.fc1.b`, [F], () => p('fc1.b')],
        [`layer.${l}.fc2.w`, [F, H], () => transpose(p('fc2.w'), H, F)],
        [`layer.${l}.fc2.b`, [H], () => p('fc2.b')]
      )
    }
    jobs.push(['final_ln.w', [H], () => read('final_ln.w')], ['final_ln.b', [H], () => read('final_ln.b')])
    if (ckpt.hasLmHead) {
      jobs.push(
        ['lm.dense.w', [H, H], () => transpose(read('lm.dense.w'), H, H)],
        ['lm.dense.b', [H], () => read('lm.dense.b')],
        ['lm.ln.w', [H], () => read('lm.ln.w')],
        ['lm.ln.b', [H], () => read('lm.ln.b')],
        ['lm.decoder', [H, V], () => transpose(read('lm.decoder'), V, H)],
        ['lm.bias', [V], () => read('lm.bias')]
      )
    }
    const weights: Record<string, WeightEntry> = {}
    const fd = openSync(join(tmp, 'weights.bin'), 'w')
    let ok = false
    try {
      let offset = 0
      for (let i = 0; i < jobs.length; i++) {
        throwIfAborted(opts.signal)
        const [name, dims, make] = jobs[i]
        const data = make()
        assertFiniteWeights(data, name, ckpt.source)
        const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
        let done = 0
        while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, offset + done)
        weights[name] = { offset, length: bytes.length, dims }
        offset = Math.ceil((offset + bytes.length) / ALIGN) * ALIGN
        opts.onProgress?.({ phase: 'converting', done: i + 1, total: jobs.length })
      }
      fsyncSync(fd)
      ok = true
    } catch (e) {
      const total = jobs.reduce((n, [, dims]) => n + 4 * dims.reduce((a, b) => a * b, 1), 0)
      const written = Object.values(weights).reduce((n, w) => n + w.length, 0)
      throw diskFullError(e, join(dir, 'weights.bin'), total - written, 'nothing was added to the model cache') ?? e
    } finally {
      closeSync(fd)
      if (!ok) rmSync(tmp, { recursive: true, force: true })
    }
    const manifest = {
      hash,
      name: ckpt.name,
      source: ckpt.source,
      format: ckpt.format,
      config: c,
      hasLmHead: ckpt.hasLmHead,
      cacheVersion: MODEL_CACHE_VERSION,
      weights
    }
    writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 1))
    rmSync(dir, { recursive: true, force: true })
    renameSync(tmp, dir)
    opts.onProgress?.({ phase: 'done', done: 1, total: 1 })
    return readImportedEsm2(dir)!
  } finally {
    ckpt.close()
  }
}
