/**
 * The GPU adapter that ONNX Runtime's WebGPU execution provider would run on. ONNX Runtime links Dawn
 * statically and does not say which adapter it took, so the adapter is read with the `webgpu` package
 * (Dawn's Node bindings, the same Dawn adapter choice: the high-performance adapter of the platform's
 * default backend, over the same driver): vendor, name, backend, and whether it is a software adapter
 * (SwiftShader: `isFallbackAdapter`), which `auto` does not choose (it is slower than the CPU provider).
 */

export interface GpuAdapter {
  /** e.g. "nvidia", "amd", "intel", "apple", "google" (SwiftShader). */
  vendor: string
  /** The device as the driver names it, e.g. "NVIDIA GeForce RTX 4090" or "SwiftShader driver 5.0.0". */
  name: string
  /** The graphics API Dawn runs over: Vulkan (Linux), Direct3D 12 (Windows), Metal (macOS). */
  backend: string
  /** A software rasteriser (e.g. SwiftShader) rather than a GPU. */
  software: boolean
}

export type AdapterProbe = { adapter: GpuAdapter; reason?: undefined } | { adapter?: undefined; reason: string }

/** Dawn's backend on each platform (the one ONNX Runtime's WebGPU provider uses). */
export function dawnBackend(platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? 'Direct3D 12' : platform === 'darwin' ? 'Metal' : 'Vulkan'
}

let probe: Promise<AdapterProbe> | undefined

/** The WebGPU adapter of this machine, looked up once per process; `reason` says why there is none. */
export function findWebGpuAdapter(): Promise<AdapterProbe> {
  probe ??= lookUpAdapter()
  return probe
}

async function lookUpAdapter(): Promise<AdapterProbe> {
  let gpu: GPU
  try {
    const { create } = (await import('webgpu')) as { create: (options: string[]) => GPU }
    gpu = create([])
  } catch (e) {
    return { reason: `Dawn could not start (${(e as Error).message.split('\n')[0]})` }
  }
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' })
    if (!adapter) return { reason: `no WebGPU adapter found (no ${dawnBackend()} driver for a GPU)` }
    const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean }
    const software =
      info.isFallbackAdapter === true ||
      /swiftshader|llvmpipe|lavapipe|software/i.test(`${info.architecture} ${info.device} ${info.description}`)
    return {
      adapter: {
        vendor: info.vendor || 'unknown vendor',
        name: info.description || info.device || info.architecture || 'unnamed adapter',
        backend: dawnBackend(),
        software
      }
    }
  } catch (e) {
    return { reason: `no WebGPU adapter (${(e as Error).message.split('\n')[0]})` }
  }
}

export function describeAdapter(a: GpuAdapter): string {
  return `${a.name} (${a.vendor}, ${a.backend}${a.software ? ', software' : ''})`
}
