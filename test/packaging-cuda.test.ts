/**
 * The first-start CUDA guidance (src/main/engine/runtime/cuda-setup.ts) for machines described by injected
 * probes: with and without nvidia-smi, with and without ONNX Runtime's CUDA provider next to libonnxruntime,
 * with CUDA 12 / cuDNN 9 libraries found, missing or installed off the loader path, for each kind of install.
 * The probes of this machine (no NVIDIA GPU) are run for real at the end.
 */
import { describe, expect, it } from 'vitest'
import { join } from 'node:path'
import {
  CUDA_LIBRARIES,
  CUDA_PROVIDER_FILES,
  adviseCudaSetup,
  cudaFallbackReason,
  detectInstallKind,
  ortNativeDir,
  parseLdconfigCache,
  systemCudaProbes,
  unpackedPath,
  type CudaProbes,
  type InstallKind
} from '../src/main/engine/runtime/cuda-setup'

const DEB_DIR = '/opt/PLM-SAE Workbench/resources/app.asar.unpacked/node_modules/onnxruntime-node/bin/napi-v6/linux/x64'

interface FakeMachine {
  gpus?: string[] | { error: string }
  providerFiles?: string[]
  libraries?: string[]
  offPath?: Record<string, string>
  install?: InstallKind
  platform?: NodeJS.Platform
  arch?: string
  providerDir?: string
}

function probes(m: FakeMachine): CudaProbes {
  const providerDir = m.providerDir ?? DEB_DIR
  const files = new Set((m.providerFiles ?? []).map(f => join(providerDir, f)))
  return {
    platform: m.platform ?? 'linux',
    arch: m.arch ?? 'x64',
    nvidiaSmi: () => (m.gpus === undefined ? undefined : Array.isArray(m.gpus) ? { gpus: m.gpus } : m.gpus),
    providerDir,
    fileExists: p => files.has(p),
    findLibrary: so => ((m.libraries ?? []).includes(so) ? `/usr/lib/x86_64-linux-gnu/${so}` : undefined),
    findLibraryOffLoaderPath: so => m.offPath?.[so],
    install: m.install ?? 'deb'
  }
}

const ALL_LIBS = CUDA_LIBRARIES.map(l => l.soname)
const PROVIDER = [...CUDA_PROVIDER_FILES]

describe('CUDA guidance at first start', () => {
  it('no nvidia-smi: CPU, nothing shown at start, no fallback reason for the indicator', () => {
    const a = adviseCudaSetup(probes({}))
    expect(a.status).toBe('no-nvidia-gpu')
    expect(a.showAtStart).toBe(false)
    expect(a.summary).toBe('CPU: no NVIDIA GPU found (nvidia-smi is not installed)')
  })

  it('GPU, provider carried by the package, CUDA 12 and cuDNN 9 installed: ready', () => {
    const a = adviseCudaSetup(probes({ gpus: ['NVIDIA RTX A6000'], providerFiles: PROVIDER, libraries: ALL_LIBS }))
    expect(a.status).toBe('ready')
    expect(a.showAtStart).toBe(false)
    expect(a.summary).toBe('CUDA ready on NVIDIA RTX A6000')
    expect(a.message).toContain(DEB_DIR)
  })

  it('GPU, provider carried, no CUDA/cuDNN: names each missing library, the apt command and how the app picks them up', () => {
    const a = adviseCudaSetup(
      probes({
        gpus: ['NVIDIA A100-SXM4-80GB', 'NVIDIA A100-SXM4-80GB'],
        providerFiles: PROVIDER,
        libraries: ['libcuda.so.1']
      })
    )
    expect(a.status).toBe('libraries-missing')
    expect(a.showAtStart).toBe(true)
    expect(a.missingProviderFiles).toEqual([])
    expect(a.missingLibraries.map(l => l.soname)).toEqual([
      'libcudart.so.12',
      'libcublas.so.12',
      'libcublasLt.so.12',
      'libcufft.so.11',
      'libcurand.so.10',
      'libcudnn.so.9'
    ])
    expect(a.summary).toBe(
      'CPU: NVIDIA A100-SXM4-80GB, NVIDIA A100-SXM4-80GB found but CUDA cannot be used (the CUDA 12 runtime, cuBLAS (CUDA 12), cuBLASLt (CUDA 12), cuFFT (CUDA 12), cuRAND (CUDA 12), cuDNN 9 not found)'
    )
    expect(a.message).toContain('sudo apt install cuda-libraries-12-8 libcudnn9-cuda-12')
    expect(a.message).toContain('libcudnn.so.9 (cuDNN 9; apt package libcudnn9-cuda-12)')
    expect(a.message).toContain('LD_LIBRARY_PATH')
    expect(a.message).toMatch(/Restart PLM-SAE Workbench/)
    expect(a.message).not.toContain('setup:cuda')
  })

  it('only cuDNN missing: only cuDNN is asked for', () => {
    const a = adviseCudaSetup(
      probes({
        gpus: ['NVIDIA GeForce RTX 4090'],
        providerFiles: PROVIDER,
        libraries: ALL_LIBS.filter(l => l !== 'libcudnn.so.9')
      })
    )
    expect(a.status).toBe('libraries-missing')
    expect(a.missingLibraries.map(l => l.soname)).toEqual(['libcudnn.so.9'])
    expect(a.summary).toBe('CPU: NVIDIA GeForce RTX 4090 found but CUDA cannot be used (cuDNN 9 not found)')
  })

  it('libraries installed but not on the loader path: the ldconfig fix with their folder', () => {
    const a = adviseCudaSetup(
      probes({
        gpus: ['NVIDIA L4'],
        providerFiles: PROVIDER,
        libraries: ALL_LIBS.filter(l => l !== 'libcudart.so.12'),
        offPath: { 'libcudart.so.12': '/usr/local/cuda-12.8/lib64/libcudart.so.12' }
      })
    )
    expect(a.missingLibraries).toEqual([
      expect.objectContaining({ soname: 'libcudart.so.12', offPath: '/usr/local/cuda-12.8/lib64/libcudart.so.12' })
    ])
    expect(a.message).toContain('present at /usr/local/cuda-12.8/lib64/libcudart.so.12 but not on the library path')
    expect(a.message).toContain(
      'echo /usr/local/cuda-12.8/lib64 | sudo tee /etc/ld.so.conf.d/plm-sae-cuda.conf && sudo ldconfig'
    )
  })

  it('provider missing, from source: npm run setup:cuda into node_modules', () => {
    const dir = '/home/ada/plm-sae/node_modules/onnxruntime-node/bin/napi-v6/linux/x64'
    const a = adviseCudaSetup(
      probes({
        gpus: ['NVIDIA RTX A6000'],
        providerFiles: [],
        libraries: ALL_LIBS,
        install: 'source',
        providerDir: dir
      })
    )
    expect(a.status).toBe('provider-missing')
    expect(a.missingProviderFiles).toEqual(PROVIDER)
    expect(a.message).toContain('`npm run setup:cuda`')
    expect(a.message).toContain(dir)
    expect(a.summary).toContain("ONNX Runtime's CUDA provider not installed")
  })

  it('provider missing in a .deb built without it: which files, from where, into which folder', () => {
    const a = adviseCudaSetup(
      probes({
        gpus: ['NVIDIA RTX A6000'],
        providerFiles: ['libonnxruntime_providers_shared.so'],
        libraries: [],
        install: 'deb'
      })
    )
    expect(a.status).toBe('provider-missing')
    expect(a.missingProviderFiles).toEqual(['libonnxruntime_providers_cuda.so'])
    expect(a.message).toContain('Microsoft.ML.OnnxRuntime.Gpu.Linux 1.30.0')
    expect(a.message).toContain(`sudo cp libonnxruntime_providers_*.so "${DEB_DIR}/"`)
    // Both problems are listed, libraries first, then the provider, then the restart.
    expect(a.message).toMatch(
      /1\. Install the CUDA 12 runtime and cuDNN 9[\s\S]*2\. This package was built without[\s\S]*3\. Restart/
    )
  })

  it('provider missing in an AppImage: explains that it is read-only and how to extract it', () => {
    const a = adviseCudaSetup(
      probes({
        gpus: ['NVIDIA RTX A6000'],
        libraries: ALL_LIBS,
        install: 'appimage',
        providerDir:
          '/tmp/.mount_PLMxyz/resources/app.asar.unpacked/node_modules/onnxruntime-node/bin/napi-v6/linux/x64'
      })
    )
    expect(a.message).toContain('read-only')
    expect(a.message).toContain('--appimage-extract')
  })

  it('nvidia-smi present but failing: the driver, not CUDA, is the problem', () => {
    const a = adviseCudaSetup(
      probes({ gpus: { error: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver." } })
    )
    expect(a.status).toBe('driver-not-working')
    expect(a.showAtStart).toBe(true)
    expect(a.message).toContain("couldn't communicate with the NVIDIA driver")
  })

  it('a GPU on Windows or Linux arm64: no CUDA provider in onnxruntime-node 1.30, said plainly', () => {
    for (const [platform, arch] of [
      ['win32', 'x64'],
      ['linux', 'arm64']
    ] as const) {
      const a = adviseCudaSetup(probes({ gpus: ['NVIDIA RTX A6000'], platform, arch }))
      expect(a.status).toBe('unsupported-platform')
      expect(a.summary).toBe(`CPU: CUDA is not available on ${platform}/${arch}`)
    }
  })

  it('everything found but the session failed: uses the load error, and a library named in it counts as missing', () => {
    const loadError =
      'Failed to load library libonnxruntime_providers_cuda.so with error: libcudnn_graph.so.9: cannot open shared object file: No such file or directory'
    const a = adviseCudaSetup(probes({ gpus: ['NVIDIA T4'], providerFiles: PROVIDER, libraries: ALL_LIBS }), loadError)
    expect(a.status).toBe('libraries-missing')
    expect(a.missingLibraries.map(l => l.soname)).toEqual(['libcudnn_graph.so.9'])
    const b = adviseCudaSetup(
      probes({ gpus: ['NVIDIA T4'], providerFiles: PROVIDER, libraries: ALL_LIBS }),
      'CUDA failure 35: CUDA driver version is insufficient for CUDA runtime version'
    )
    expect(b.status).toBe('load-failed')
    expect(b.message).toContain('CUDA driver version is insufficient')
  })
})

describe('the probes', () => {
  it('parses the ldconfig cache, 64-bit entries only', () => {
    const cache = parseLdconfigCache(
      [
        "1234 libs found in cache `/etc/ld.so.cache'",
        '\tlibcudnn.so.9 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcudnn.so.9',
        '\tlibcudart.so.12 (libc6) => /usr/lib/i386-linux-gnu/libcudart.so.12',
        '\tlibcublas.so.12 (libc6,x86-64) => /usr/local/cuda-12.8/targets/x86_64-linux/lib/libcublas.so.12'
      ].join('\n')
    )
    expect(cache.get('libcudnn.so.9')).toBe('/usr/lib/x86_64-linux-gnu/libcudnn.so.9')
    expect(cache.get('libcublas.so.12')).toBe('/usr/local/cuda-12.8/targets/x86_64-linux/lib/libcublas.so.12')
    expect(cache.has('libcudart.so.12')).toBe(false)
  })

  it('maps app.asar paths to the unpacked folder and tells the kind of install', () => {
    expect(unpackedPath('/opt/PLM-SAE Workbench/resources/app.asar/node_modules/onnxruntime-node')).toBe(
      '/opt/PLM-SAE Workbench/resources/app.asar.unpacked/node_modules/onnxruntime-node'
    )
    expect(unpackedPath('/home/ada/plm-sae/node_modules/onnxruntime-node')).toBe(
      '/home/ada/plm-sae/node_modules/onnxruntime-node'
    )
    expect(detectInstallKind(DEB_DIR, {})).toBe('deb')
    expect(
      detectInstallKind('/tmp/.mount_PLMxyz/resources/app.asar.unpacked/node_modules/onnxruntime-node/bin', {
        APPIMAGE: '/home/ada/PLM.AppImage'
      })
    ).toBe('appimage')
    expect(detectInstallKind('/home/ada/plm-sae/node_modules/onnxruntime-node/bin/napi-v6/linux/x64', {})).toBe(
      'source'
    )
  })

  it("this machine: onnxruntime-node's native folder from source, and no NVIDIA GPU (no nvidia-smi here)", () => {
    const p = systemCudaProbes({ PATH: process.env.PATH })
    expect(p.providerDir).toBe(ortNativeDir())
    expect(
      p.fileExists(join(p.providerDir, process.platform === 'win32' ? 'onnxruntime.dll' : 'libonnxruntime.so.1'))
    ).toBe(true)
    expect(p.install).toBe('source')
    expect(p.findLibrary('libc.so.6')).toBeDefined()
    expect(p.findLibrary('libdefinitely-not-here.so.42')).toBeUndefined()
    const a = adviseCudaSetup(p)
    if (p.nvidiaSmi() === undefined) {
      expect(a.status).toBe('no-nvidia-gpu')
      expect(cudaFallbackReason('auto')).toBeUndefined()
      expect(cudaFallbackReason('cuda')).toContain('no NVIDIA GPU found')
    } else {
      expect(a.status).not.toBe('no-nvidia-gpu')
    }
  })
})
