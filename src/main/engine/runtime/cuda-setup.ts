/**
 * What a machine needs for the CUDA execution provider, and what to tell the user when it is missing.
 *
 * How onnxruntime-node 1.30 gets to CUDA (read from its script/install.js and dist/binding.js):
 * - `onnxruntime_binding.node` loads `libonnxruntime.so.1` from its own folder (RUNPATH `$ORIGIN`):
 *   `node_modules/onnxruntime-node/bin/napi-v6/<platform>/<arch>/`.
 * - Asking for the `cuda` provider makes ONNX Runtime dlopen `libonnxruntime_providers_shared.so` and
 *   `libonnxruntime_providers_cuda.so` from the folder of `libonnxruntime.so.1` (no other search path).
 *   npm does not carry them (too large for the registry); `script/install.js` fetches them from NuGet
 *   (Microsoft.ML.OnnxRuntime.Gpu.Linux, `runtimes/linux-x64/native/`) on linux/x64 only; `npm run setup:cuda`.
 * - The provider then needs the CUDA 12 runtime libraries and cuDNN 9, found by the system's dynamic loader
 *   (LD_LIBRARY_PATH, the ldconfig cache, /usr/lib), plus the NVIDIA driver (libcuda.so.1).
 * In the packaged app the folder is `<resources>/app.asar.unpacked/node_modules/onnxruntime-node/bin/napi-v6/linux/x64`
 * (electron-builder.yml unpacks it); the Linux x64 package carries the provider when it was built after
 * `npm run setup:cuda`, so on a workstation only CUDA 12 and cuDNN 9 remain to install.
 *
 * Everything the advice depends on is a probe (`CudaProbes`) so that it can be computed for any machine.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { delimiter, dirname, join, sep } from 'node:path'

/** The provider libraries ONNX Runtime loads from its own folder for CUDA (Linux). */
export const CUDA_PROVIDER_FILES = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'] as const

/** The NuGet package the provider comes from (the same version as onnxruntime-node). */
export const CUDA_PROVIDER_SOURCE =
  'Microsoft.ML.OnnxRuntime.Gpu.Linux 1.30.0 (NuGet), folder runtimes/linux-x64/native/'

export interface CudaLibrary {
  /** The name the dynamic loader looks for. */
  soname: string
  /** What it is, for people. */
  what: string
  /** The Debian/Ubuntu package that provides it (NVIDIA's CUDA apt repository). */
  aptPackage: string
}

/** Shared libraries the CUDA provider of ONNX Runtime 1.30 (CUDA 12 build) needs at load time. */
export const CUDA_LIBRARIES: readonly CudaLibrary[] = [
  { soname: 'libcuda.so.1', what: 'the NVIDIA driver', aptPackage: 'nvidia-driver (or libnvidia-compute-<version>)' },
  { soname: 'libcudart.so.12', what: 'the CUDA 12 runtime', aptPackage: 'cuda-cudart-12-x' },
  { soname: 'libcublas.so.12', what: 'cuBLAS (CUDA 12)', aptPackage: 'libcublas-12-x' },
  { soname: 'libcublasLt.so.12', what: 'cuBLASLt (CUDA 12)', aptPackage: 'libcublas-12-x' },
  { soname: 'libcufft.so.11', what: 'cuFFT (CUDA 12)', aptPackage: 'libcufft-12-x' },
  { soname: 'libcurand.so.10', what: 'cuRAND (CUDA 12)', aptPackage: 'libcurand-12-x' },
  { soname: 'libcudnn.so.9', what: 'cuDNN 9', aptPackage: 'libcudnn9-cuda-12' }
]

/** The one command that installs everything but the driver, from NVIDIA's CUDA apt repository. */
export const CUDA_APT_COMMAND = 'sudo apt install cuda-libraries-12-8 libcudnn9-cuda-12'

/** How this copy of the app was installed: it decides where the provider goes and who may write there. */
export type InstallKind = 'source' | 'deb' | 'appimage' | 'packaged'

export type NvidiaSmiResult = { gpus: string[] } | { error: string }

export interface CudaProbes {
  platform: NodeJS.Platform
  arch: string
  /** nvidia-smi's GPU list; undefined when nvidia-smi is not installed (no NVIDIA GPU expected). */
  nvidiaSmi(): NvidiaSmiResult | undefined
  /** The folder ONNX Runtime loads provider libraries from (the real path, outside any asar archive). */
  providerDir: string
  fileExists(path: string): boolean
  /** Where the dynamic loader would find a library (LD_LIBRARY_PATH, ldconfig cache, /usr/lib); undefined if not. */
  findLibrary(soname: string): string | undefined
  /** Where a library exists but the loader does not look (e.g. /usr/local/cuda-12.8/lib64); undefined if nowhere. */
  findLibraryOffLoaderPath(soname: string): string | undefined
  install: InstallKind
}

export type CudaStatus =
  /** No nvidia-smi: no NVIDIA GPU expected; the CPU is used and nothing is shown at start. */
  | 'no-nvidia-gpu'
  /** An NVIDIA GPU, but this platform/architecture has no CUDA provider in onnxruntime-node 1.30. */
  | 'unsupported-platform'
  /** nvidia-smi exists but fails: the driver is not loaded. */
  | 'driver-not-working'
  /** ONNX Runtime's CUDA provider libraries are not next to libonnxruntime. */
  | 'provider-missing'
  /** The provider is there; CUDA 12 / cuDNN 9 libraries are not found by the loader. */
  | 'libraries-missing'
  /** Everything is found, yet creating a CUDA session failed (see `loadError`). */
  | 'load-failed'
  /** Everything CUDA needs is found. */
  | 'ready'

export interface CudaSetupAdvice {
  status: CudaStatus
  gpus: string[]
  providerDir: string
  missingProviderFiles: string[]
  missingLibraries: (CudaLibrary & { offPath?: string })[]
  /** Whether the app should show `message` at start (an NVIDIA GPU is there and CUDA cannot be used). */
  showAtStart: boolean
  /** One line for the execution-provider indicator. */
  summary: string
  /** The full explanation: what is missing, the commands to install it, how the app then picks it up. */
  message: string
}

/**
 * Works out whether CUDA can be used here and, if not, exactly what to install. `loadError` is the error of a
 * failed CUDA session creation, when there was one (its "libX.so.N: cannot open shared object file" is used).
 */
export function adviseCudaSetup(probes: CudaProbes, loadError?: string): CudaSetupAdvice {
  const smi = probes.nvidiaSmi()
  const base = {
    gpus: [] as string[],
    providerDir: probes.providerDir,
    missingProviderFiles: [] as string[],
    missingLibraries: [] as CudaSetupAdvice['missingLibraries']
  }
  if (smi === undefined) {
    const summary = 'CPU: no NVIDIA GPU found (nvidia-smi is not installed)'
    return {
      ...base,
      status: 'no-nvidia-gpu',
      showAtStart: false,
      summary,
      message: `${summary}. Inference runs on the CPU.`
    }
  }
  if ('error' in smi) {
    const summary = 'CPU: the NVIDIA driver is not working'
    return {
      ...base,
      status: 'driver-not-working',
      showAtStart: true,
      summary,
      message:
        `${summary}: nvidia-smi is installed but fails (${smi.error}). Inference runs on the CPU.\n` +
        'Install or repair the NVIDIA driver (Debian/Ubuntu: `sudo ubuntu-drivers install` or `sudo apt install nvidia-driver`), reboot, ' +
        'check that `nvidia-smi` lists the GPU, then restart PLM-SAE Workbench.'
    }
  }
  const gpus = smi.gpus
  const gpuText = gpus.length > 0 ? gpus.join(', ') : 'an NVIDIA GPU'
  if (probes.platform !== 'linux' || probes.arch !== 'x64') {
    const summary = `CPU: CUDA is not available on ${probes.platform}/${probes.arch}`
    return {
      ...base,
      gpus,
      status: 'unsupported-platform',
      showAtStart: true,
      summary,
      message:
        `${summary}: onnxruntime-node 1.30 ships its CUDA execution provider for Linux x64 only, so ${gpuText} cannot be used ` +
        'by this build. Inference runs on the CPU. For the GPU, run the app (or `plm-sae serve` and a browser) on Linux x64.'
    }
  }

  const missingProviderFiles = CUDA_PROVIDER_FILES.filter(f => !probes.fileExists(join(probes.providerDir, f)))
  const missingLibraries = CUDA_LIBRARIES.filter(l => probes.findLibrary(l.soname) === undefined).map(l => {
    const offPath = probes.findLibraryOffLoaderPath(l.soname)
    return offPath ? { ...l, offPath } : { ...l }
  })
  // A load error naming a library the probes did not flag (e.g. a broken symlink) still counts as missing.
  const named = loadError?.match(/(lib[\w.+-]+\.so(?:\.\d+)*): cannot open shared object file/)?.[1]
  if (
    named &&
    !missingLibraries.some(l => l.soname === named) &&
    !(CUDA_PROVIDER_FILES as readonly string[]).includes(named)
  ) {
    const known = CUDA_LIBRARIES.find(l => l.soname === named)
    missingLibraries.push(
      known
        ? { ...known }
        : {
            soname: named,
            what: 'a library the CUDA provider needs',
            aptPackage: '(see the CUDA 12 / cuDNN 9 installation)'
          }
    )
  }
  const result = { ...base, gpus, missingProviderFiles, missingLibraries }

  if (missingProviderFiles.length === 0 && missingLibraries.length === 0) {
    if (loadError) {
      const first = loadError.split('\n')[0]
      const summary = `CPU: CUDA failed to start on ${gpuText}`
      return {
        ...result,
        status: 'load-failed',
        showAtStart: true,
        summary,
        message:
          `${summary} (${first}). The provider and the CUDA 12 / cuDNN 9 libraries were found, so check that the driver supports ` +
          'CUDA 12 (`nvidia-smi` shows "CUDA Version: 12.x" or newer) and that the GPU is not in exclusive use, then restart.'
      }
    }
    const summary = `CUDA ready on ${gpuText}`
    return {
      ...result,
      status: 'ready',
      showAtStart: false,
      summary,
      message: `${summary}: ONNX Runtime's CUDA provider in ${probes.providerDir}; CUDA 12 and cuDNN 9 found.`
    }
  }

  const steps: string[] = []
  if (missingLibraries.length > 0) steps.push(librariesStep(missingLibraries))
  if (missingProviderFiles.length > 0) steps.push(providerStep(probes, missingProviderFiles))
  steps.push(
    'Restart PLM-SAE Workbench: it tries CUDA at every start, and the execution-provider indicator then shows the GPU.'
  )
  const status: CudaStatus = missingProviderFiles.length > 0 ? 'provider-missing' : 'libraries-missing'
  const what = [
    ...(missingLibraries.length > 0 ? [`${[...new Set(missingLibraries.map(l => l.what))].join(', ')} not found`] : []),
    ...(missingProviderFiles.length > 0 ? ["ONNX Runtime's CUDA provider not installed"] : [])
  ].join('; ')
  const summary = `CPU: ${gpuText} found but CUDA cannot be used (${what})`
  return {
    ...result,
    status,
    showAtStart: true,
    summary,
    message: `${summary}. Inference runs on the CPU until this is done:\n${steps.map((s, i) => `${i + 1}. ${s}`).join('\n')}`
  }
}

function librariesStep(missing: CudaSetupAdvice['missingLibraries']): string {
  const list = missing.map(
    l =>
      `${l.soname} (${l.what}; apt package ${l.aptPackage})${l.offPath ? ` — present at ${l.offPath} but not on the library path` : ''}`
  )
  const offPath = missing.filter(l => l.offPath).map(l => dirname(l.offPath!))
  const loaderHint =
    offPath.length > 0
      ? ` Libraries that are installed but not on the library path: add their folder to the loader (\`echo ${[...new Set(offPath)].join(' ')} | sudo tee /etc/ld.so.conf.d/plm-sae-cuda.conf && sudo ldconfig\`).`
      : ''
  return (
    `Install the CUDA 12 runtime and cuDNN 9. Missing: ${list.join('; ')}. On Debian/Ubuntu, after adding NVIDIA's CUDA repository ` +
    `(https://developer.nvidia.com/cuda-downloads, package cuda-keyring): \`${CUDA_APT_COMMAND}\` (any CUDA 12.x works; ` +
    'the NVIDIA driver must support CUDA 12). The app finds them through the system library path (ldconfig); libraries installed ' +
    'elsewhere (a tarball, conda, pip wheels) must be on LD_LIBRARY_PATH when the app starts.' +
    loaderHint
  )
}

function providerStep(probes: CudaProbes, missing: string[]): string {
  const files = missing.join(' and ')
  const dir = probes.providerDir
  switch (probes.install) {
    case 'source':
      return `Fetch ONNX Runtime's CUDA provider: \`npm run setup:cuda\` in the repository (it downloads ${CUDA_PROVIDER_SOURCE} and puts ${files} into ${dir}).`
    case 'deb':
      return (
        `This package was built without ONNX Runtime's CUDA provider. Install the package built with it, or copy ${files} ` +
        `from ${CUDA_PROVIDER_SOURCE} into ${dir} (\`sudo cp libonnxruntime_providers_*.so "${dir}/"\`).`
      )
    case 'appimage':
      return (
        `This AppImage was built without ONNX Runtime's CUDA provider and an AppImage is read-only. Use the AppImage or .deb built with ` +
        `CUDA, or extract this one (\`./PLM-SAE-Workbench-*.AppImage --appimage-extract\`), copy ${files} from ${CUDA_PROVIDER_SOURCE} into ` +
        `squashfs-root/resources/app.asar.unpacked/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/ and start squashfs-root/plm-sae-workbench.`
      )
    default:
      return `Copy ${files} from ${CUDA_PROVIDER_SOURCE} into ${dir}.`
  }
}

// ------------------------------------------------------------------------------------------------ real probes

/** The folder of onnxruntime-node's native binaries for this platform, as a real path (outside app.asar). */
export function ortNativeDir(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string {
  const pkg = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'))
  return join(unpackedPath(pkg), 'bin', 'napi-v6', platform, arch)
}

/** The real path of a file that electron-builder unpacked from app.asar (dlopen and users see this path). */
export function unpackedPath(p: string): string {
  return p.replace(/([\\/])app\.asar(?=[\\/]|$)/, `$1app.asar.unpacked`)
}

export function detectInstallKind(providerDir: string, env: NodeJS.ProcessEnv = process.env): InstallKind {
  if (!providerDir.includes(`${sep}app.asar.unpacked${sep}`)) return 'source'
  if (env.APPIMAGE) return 'appimage'
  if (providerDir.startsWith('/opt/')) return 'deb'
  return 'packaged'
}

const LINUX_DEFAULT_LIB_DIRS = [
  '/lib/x86_64-linux-gnu',
  '/usr/lib/x86_64-linux-gnu',
  '/lib64',
  '/usr/lib64',
  '/lib',
  '/usr/lib'
]

/** The sonames in the ldconfig cache, from `ldconfig -p` output. */
export function parseLdconfigCache(text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of text.split('\n')) {
    const m = line.match(/^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(\S+)\s*$/)
    if (m && m[2].includes('x86-64') && !out.has(m[1])) out.set(m[1], m[3])
  }
  return out
}

function ldconfigCache(): Map<string, string> {
  for (const exe of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    try {
      return parseLdconfigCache(
        execFileSync(exe, ['-p'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] })
      )
    } catch {
      // try the next location
    }
  }
  return new Map()
}

function cudaInstallDirs(): string[] {
  const dirs: string[] = []
  try {
    for (const name of readdirSync('/usr/local')) {
      if (!/^cuda(-[\d.]+)?$/.test(name)) continue
      dirs.push(join('/usr/local', name, 'lib64'), join('/usr/local', name, 'targets', 'x86_64-linux', 'lib'))
    }
  } catch {
    // no /usr/local
  }
  return dirs
}

function runNvidiaSmi(): NvidiaSmiResult | undefined {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], {
      encoding: 'utf8',
      timeout: 10000,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    return {
      gpus: out
        .split('\n')
        .map(s => s.trim())
        .filter(s => s.length > 0)
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stdout?: string; stderr?: string }
    if (err.code === 'ENOENT') return undefined
    const text = `${err.stdout ?? ''}${err.stderr ?? ''}`.trim().split('\n')[0] || err.message.split('\n')[0]
    return { error: text }
  }
}

/** Probes of this machine (nvidia-smi, the file system, the loader's search path). */
export function systemCudaProbes(env: NodeJS.ProcessEnv = process.env): CudaProbes {
  const providerDir = ortNativeDir()
  let cache: Map<string, string> | undefined
  const loaderDirs = () => [
    ...(env.LD_LIBRARY_PATH ?? '').split(delimiter).filter(d => d.length > 0),
    ...LINUX_DEFAULT_LIB_DIRS
  ]
  return {
    platform: process.platform,
    arch: process.arch,
    nvidiaSmi: runNvidiaSmi,
    providerDir,
    fileExists: existsSync,
    findLibrary(soname) {
      for (const d of loaderDirs()) if (existsSync(join(d, soname))) return join(d, soname)
      cache ??= ldconfigCache()
      return cache.get(soname)
    },
    findLibraryOffLoaderPath(soname) {
      for (const d of cudaInstallDirs()) if (existsSync(join(d, soname))) return join(d, soname)
      return undefined
    },
    install: detectInstallKind(providerDir, env)
  }
}

let systemAdvice: CudaSetupAdvice | undefined

/**
 * The execution-provider indicator's reason for running on the CPU (`ProviderReport.fallbackReason`):
 * nothing when no NVIDIA GPU is there and the device choice was `auto`, otherwise what to install.
 */
export function cudaFallbackReason(device: 'auto' | 'cuda', loadError?: string): string | undefined {
  const advice = cudaSetupAdvice(loadError)
  if (advice.status === 'no-nvidia-gpu' && device !== 'cuda') return undefined
  return advice.message
}

/** The advice for this machine, computed once per process (nvidia-smi and ldconfig run once). */
export function cudaSetupAdvice(loadError?: string): CudaSetupAdvice {
  if (loadError) return adviseCudaSetup(systemCudaProbes(), loadError)
  systemAdvice ??= adviseCudaSetup(systemCudaProbes())
  return systemAdvice
}
