/**
 * Choosing where ONNX Runtime runs: CUDA (device id selectable) when its provider library is installed and
 * loads, otherwise the CPU, and always saying which one is active and why.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { ElemType, GraphBuilder, encodeModel } from '../onnx/onnx-model'
import { cudaFallbackReason, unpackedPath } from './cuda-setup'

export type DeviceChoice = 'auto' | 'cpu' | 'cuda'

export interface RuntimeOptions {
  device: DeviceChoice
  /** CUDA device id. */
  deviceId: number
  /** Intra-op threads on the CPU; 0 lets ONNX Runtime pick (one per physical core). */
  threads: number
}

export const DEFAULT_RUNTIME: RuntimeOptions = { device: 'auto', deviceId: 0, threads: 0 }

export interface ProviderReport {
  provider: 'cuda' | 'cpu'
  deviceId?: number
  /** The GPU's name as nvidia-smi gives it, when on CUDA. */
  deviceName?: string
  threads: number
  /** Why CUDA is not used, when it was asked for (or could have been) and is not. */
  fallbackReason?: string
}

export const CUDA_SETUP_HINT =
  'To use an NVIDIA GPU: install the CUDA 12 runtime and cuDNN 9, then run `npm run setup:cuda` in the app folder (it fetches ONNX Runtime\'s CUDA provider), and restart.'

function ortBinaryDir(): string {
  const req = createRequire(import.meta.url)
  const pkg = dirname(req.resolve('onnxruntime-node/package.json'))
  return join(unpackedPath(pkg), 'bin', 'napi-v6', process.platform, process.arch)
}

/** Whether ONNX Runtime's CUDA provider library is installed next to the runtime. */
export function cudaProviderInstalled(): boolean {
  const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so'
  try {
    return existsSync(join(ortBinaryDir(), lib))
  } catch {
    return false
  }
}

function gpuName(deviceId: number): string | undefined {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader', `--id=${deviceId}`], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] })
    return out.trim() || undefined
  } catch {
    return undefined
  }
}

function cpuOptions(threads: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    logSeverityLevel: 3,
    // No busy-waiting between runs: the app alternates several sessions (model prefix, rest of the model, SAE)
    // and an idle session's spinning threads would steal the cores from the active one (measured: a steered
    // edit of 300 residues 62-72 ms with spinning, 34 ms without; a single session loses ~6%). It also keeps
    // an idle desktop app from burning CPU.
    extra: { session: { intra_op: { allow_spinning: '0' } } }
  }
}

/**
 * Creates a session on the chosen device. With `auto` or `cuda`, CUDA is tried first when its provider is
 * installed; if it cannot load (no driver, wrong CUDA/cuDNN version, no such device), the session is created
 * on the CPU and the report carries the reason.
 */
export async function createSession(modelPath: string, opts: RuntimeOptions): Promise<{ session: ort.InferenceSession; report: ProviderReport }> {
  let fallbackReason: string | undefined
  if (opts.device !== 'cpu') {
    if (!cudaProviderInstalled()) {
      fallbackReason = cudaFallbackReason(opts.device)
      // Asked for CUDA explicitly: also say what it takes, even where the advice is only "no GPU here".
      if (opts.device === 'cuda' && !fallbackReason?.includes('setup:cuda')) fallbackReason = `${fallbackReason ?? 'CUDA is not available.'} ${CUDA_SETUP_HINT}`
    } else {
      try {
        const session = await ort.InferenceSession.create(modelPath, {
          ...cpuOptions(opts.threads),
          executionProviders: [{ name: 'cuda', deviceId: opts.deviceId }, 'cpu']
        })
        return { session, report: { provider: 'cuda', deviceId: opts.deviceId, deviceName: gpuName(opts.deviceId), threads: opts.threads } }
      } catch (e) {
        fallbackReason = `CUDA device ${opts.deviceId} could not be used (${(e as Error).message.split('\n')[0]}); running on the CPU. ${cudaFallbackReason(opts.device, (e as Error).message) ?? 'No NVIDIA GPU found (nvidia-smi is not installed).'}`
      }
    }
  }
  const session = await ort.InferenceSession.create(modelPath, cpuOptions(opts.threads))
  return { session, report: { provider: 'cpu', threads: opts.threads, fallbackReason } }
}

export function describeProvider(r: ProviderReport): string {
  const where = r.provider === 'cuda' ? `CUDA device ${r.deviceId}${r.deviceName ? ` (${r.deviceName})` : ''}` : `CPU (${r.threads || 'auto'} threads)`
  return r.fallbackReason ? `${where}: ${r.fallbackReason}` : where
}

/**
 * Finds out where inference would run by creating a one-node session the way the models do (used by
 * `plm-sae device` and the app's execution-provider indicator).
 */
export async function probeProvider(opts: RuntimeOptions): Promise<ProviderReport> {
  const b = new GraphBuilder('probe')
  const x = b.input('x', ElemType.FLOAT, [1])
  b.output(b.relu(x), 'y', ElemType.FLOAT, [1])
  const dir = mkdtempSync(join(tmpdir(), 'plm-sae-probe-'))
  try {
    const path = join(dir, 'probe.onnx')
    writeFileSync(path, encodeModel(b.build(), 'probe'))
    const { session, report } = await createSession(path, opts)
    await session.release()
    return report
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * The ONNX Runtime sessions of one owner (a model, an SAE extractor), one per key, each created on first use.
 * A session that fails to open is forgotten, so the next request tries again. `onReport` hears which execution
 * provider each session got.
 */
export class SessionCache<K> {
  private readonly sessions = new Map<K, Promise<ort.InferenceSession>>()

  constructor(
    private readonly runtime: RuntimeOptions,
    private readonly onReport?: (report: ProviderReport) => void
  ) {}

  /** The session of `key`; `graphPath` gives (and writes, if needed) its ONNX file the first time. */
  get(key: K, graphPath: () => string): Promise<ort.InferenceSession> {
    let s = this.sessions.get(key)
    if (!s) {
      s = createSession(graphPath(), this.runtime).then(({ session, report }) => {
        this.onReport?.(report)
        return session
      })
      this.sessions.set(key, s)
      s.catch(() => this.sessions.delete(key))
    }
    return s
  }

  async releaseAll(): Promise<void> {
    for (const s of this.sessions.values()) {
      try {
        await (await s).release()
      } catch {
        // a session that failed to open has nothing to release
      }
    }
    this.sessions.clear()
  }
}
