/**
 * Choosing where ONNX Runtime runs, and always saying which provider is active and why:
 *   cuda    ONNX Runtime's CUDA provider (device id selectable), when its library is installed and loads;
 *   webgpu  ONNX Runtime's WebGPU provider (Dawn, inside onnxruntime-node: Vulkan, Direct3D 12 or Metal),
 *           which needs nothing but the GPU driver;
 *   cpu     always there.
 * `auto` takes the first of CUDA, WebGPU (a hardware adapter: a software one such as SwiftShader is slower
 * than the CPU provider) and the CPU. A GPU session that cannot be created, or that fails during a run,
 * falls back to the CPU with the reason in the report (`SessionCache`): never a wrong number.
 *
 * Graphs can depend on the provider (WebGPU computes attention with plain ops, see esm/esm2-graph.ts), so
 * a session is created from a function of the provider that gives the graph file.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { ElemType, GraphBuilder, encodeModel } from '../onnx/onnx-model'
import { cudaFallbackReason, unpackedPath } from './cuda-setup'
import { describeAdapter, findWebGpuAdapter, type GpuAdapter } from './webgpu-adapter'
import { DEVICE_SETTINGS, type DeviceSetting } from '../../../shared/library-types'

/** Where inference is asked to run: the contract's device setting (src/shared/library-types.ts). */
export type DeviceChoice = DeviceSetting
export type ExecutionProvider = 'cpu' | 'cuda' | 'webgpu'
export const DEVICE_CHOICES: readonly DeviceChoice[] = DEVICE_SETTINGS

export interface RuntimeOptions {
  device: DeviceChoice
  /** CUDA device id. */
  deviceId: number
  /** Intra-op threads on the CPU; 0 lets ONNX Runtime pick (one per physical core). */
  threads: number
}

export const DEFAULT_RUNTIME: RuntimeOptions = { device: 'auto', deviceId: 0, threads: 0 }

export interface ProviderReport {
  provider: ExecutionProvider
  deviceId?: number
  /** The GPU's name as nvidia-smi gives it, when on CUDA. */
  deviceName?: string
  /** The WebGPU adapter, when on WebGPU. */
  adapter?: GpuAdapter
  threads: number
  /** Why this provider was chosen (e.g. what `auto` found). */
  reason?: string
  /** Why a GPU is not used, when it was asked for (or could have been) and is not, or failed during a run. */
  fallbackReason?: string
}

export const CUDA_SETUP_HINT =
  "To use an NVIDIA GPU: install the CUDA 12 runtime and cuDNN 9, then run `npm run setup:cuda` in the app folder (it fetches ONNX Runtime's CUDA provider), and restart."

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
    const out = execFileSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader', `--id=${deviceId}`], {
      encoding: 'utf8',
      timeout: 5000,
      stdio: ['ignore', 'pipe', 'ignore']
    })
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

/** The graph file a session runs; a function of the provider when the graph depends on it. */
export type GraphFile = string | ((provider: ExecutionProvider) => string)

function graphFor(graph: GraphFile, provider: ExecutionProvider): string {
  return typeof graph === 'string' ? graph : graph(provider)
}

function firstLine(e: unknown): string {
  return (e as Error).message.split('\n')[0]
}

function webGpuOptions(threads: number): ort.InferenceSession.SessionOptions {
  // Nodes the WebGPU provider has no kernel for (e.g. NonZero on int64) run on the CPU provider.
  return { ...cpuOptions(threads), executionProviders: ['webgpu', 'cpu'] }
}

/**
 * Creates a session on the chosen device, trying in order (see the file comment): CUDA for `auto` and
 * `cuda`, WebGPU for `auto` (hardware adapters only) and `webgpu`, then the CPU. The report says which
 * provider it is and why, and why a GPU that was asked for (or is there) is not used.
 */
export async function createSession(
  graph: GraphFile,
  opts: RuntimeOptions
): Promise<{ session: ort.InferenceSession; report: ProviderReport }> {
  let fallbackReason: string | undefined
  const notes: string[] = []
  if (opts.device === 'auto' || opts.device === 'cuda') {
    if (!cudaProviderInstalled()) {
      fallbackReason = cudaFallbackReason(opts.device === 'cuda' ? 'cuda' : 'auto')
      // Asked for CUDA explicitly: also say what it takes, even where the advice is only "no GPU here".
      if (opts.device === 'cuda' && !fallbackReason?.includes('setup:cuda'))
        fallbackReason = `${fallbackReason ?? 'CUDA is not available.'} ${CUDA_SETUP_HINT}`
      notes.push("CUDA: ONNX Runtime's CUDA provider is not installed")
    } else {
      try {
        const session = await ort.InferenceSession.create(graphFor(graph, 'cuda'), {
          ...cpuOptions(opts.threads),
          executionProviders: [{ name: 'cuda', deviceId: opts.deviceId }, 'cpu']
        })
        const reason = opts.device === 'cuda' ? 'asked for CUDA' : "auto: CUDA's provider loaded"
        return {
          session,
          report: {
            provider: 'cuda',
            deviceId: opts.deviceId,
            deviceName: gpuName(opts.deviceId),
            threads: opts.threads,
            reason
          }
        }
      } catch (e) {
        fallbackReason = `CUDA device ${opts.deviceId} could not be used (${firstLine(e)}); running on the CPU. ${cudaFallbackReason(opts.device === 'cuda' ? 'cuda' : 'auto', (e as Error).message) ?? 'No NVIDIA GPU found (nvidia-smi is not installed).'}`
        notes.push(`CUDA: ${firstLine(e)}`)
      }
    }
  }
  if (opts.device === 'auto' || opts.device === 'webgpu') {
    const found = await findWebGpuAdapter()
    if (!found.adapter) {
      notes.push(`WebGPU: ${found.reason}`)
      if (opts.device === 'webgpu')
        fallbackReason = `WebGPU is not available (${found.reason}); running on the CPU. WebGPU needs only the GPU's driver (Vulkan on Linux, Direct3D 12 on Windows, Metal on macOS).`
    } else if (opts.device === 'auto' && found.adapter.software) {
      notes.push(
        `WebGPU: only a software adapter, ${describeAdapter(found.adapter)}, which is slower than the CPU (--device webgpu uses it anyway)`
      )
    } else {
      try {
        const session = await ort.InferenceSession.create(graphFor(graph, 'webgpu'), webGpuOptions(opts.threads))
        const reason =
          opts.device === 'webgpu'
            ? 'asked for WebGPU'
            : `auto: ${notes.length ? `${notes.join('; ')}; ` : ''}WebGPU adapter found`
        return {
          session,
          report: { provider: 'webgpu', adapter: found.adapter, threads: opts.threads, reason, fallbackReason }
        }
      } catch (e) {
        notes.push(`WebGPU: ${firstLine(e)}`)
        if (opts.device === 'webgpu')
          fallbackReason = `WebGPU on ${describeAdapter(found.adapter)} could not be used (${firstLine(e)}); running on the CPU.`
      }
    }
  }
  const session = await ort.InferenceSession.create(graphFor(graph, 'cpu'), cpuOptions(opts.threads))
  const reason = opts.device === 'cpu' ? 'asked for the CPU' : `${opts.device}: ${notes.join('; ')}`
  return { session, report: { provider: 'cpu', threads: opts.threads, reason, fallbackReason } }
}

/** Where a session runs, in one line: "CUDA device 0 (…)", "WebGPU: <adapter>" or "CPU (n threads)". */
export function describeWhere(r: ProviderReport): string {
  if (r.provider === 'cuda') return `CUDA device ${r.deviceId}${r.deviceName ? ` (${r.deviceName})` : ''}`
  if (r.provider === 'webgpu') return `WebGPU: ${r.adapter ? describeAdapter(r.adapter) : 'adapter unknown'}`
  return `CPU (${r.threads || 'auto'} threads)`
}

export function describeProvider(r: ProviderReport): string {
  const where = describeWhere(r)
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
 *
 * `run` is how a session runs: if a GPU session fails during a run (a lost device, out of GPU memory, a
 * kernel the provider lacks), every session of this cache is recreated on the CPU, the run is repeated
 * there, and the new report (provider 'cpu', `fallbackReason` saying what failed) goes to `onReport`: the
 * caller gets the CPU's numbers and a message, never a partial or wrong result.
 */
export class SessionCache<K> {
  private readonly sessions = new Map<K, Promise<{ session: ort.InferenceSession; report: ProviderReport }>>()
  /** Set once a GPU failed during a run: from then on everything runs on the CPU. */
  private gpuFailure: string | undefined

  constructor(
    private readonly runtime: RuntimeOptions,
    private readonly onReport?: (report: ProviderReport) => void
  ) {}

  private entry(key: K, graph: () => GraphFile): Promise<{ session: ort.InferenceSession; report: ProviderReport }> {
    let s = this.sessions.get(key)
    if (!s) {
      const runtime: RuntimeOptions = this.gpuFailure ? { ...this.runtime, device: 'cpu' } : this.runtime
      s = createSession(graph(), runtime).then(({ session, report }) => {
        const r: ProviderReport = this.gpuFailure
          ? { ...report, reason: 'a GPU run failed', fallbackReason: this.gpuFailure }
          : report
        this.onReport?.(r)
        return { session, report: r }
      })
      this.sessions.set(key, s)
      s.catch(() => this.sessions.delete(key))
    }
    return s
  }

  /** The session of `key`; `graph` gives (and writes, if needed) its ONNX file the first time. */
  async get(key: K, graph: () => GraphFile): Promise<ort.InferenceSession> {
    return (await this.entry(key, graph)).session
  }

  /** Runs the session of `key` on `feeds`, falling back to the CPU if a GPU fails (see the class comment). */
  async run(
    key: K,
    graph: () => GraphFile,
    feeds: Record<string, ort.Tensor>
  ): Promise<ort.InferenceSession.ReturnType> {
    const { session, report } = await this.entry(key, graph)
    try {
      return await session.run(feeds)
    } catch (e) {
      if (report.provider === 'cpu') throw e
      const where = describeWhere(report)
      this.gpuFailure = `${where} failed during a run (${firstLine(e)}); running on the CPU from here on.`
      await this.releaseAll()
      const cpu = await this.entry(key, graph)
      return cpu.session.run(feeds)
    }
  }

  async releaseAll(): Promise<void> {
    for (const s of this.sessions.values()) {
      try {
        await (await s).session.release()
      } catch {
        // a session that failed to open has nothing to release
      }
    }
    this.sessions.clear()
  }
}
