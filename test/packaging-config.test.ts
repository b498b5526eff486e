/**
 * electron-builder.yml, loaded and validated by electron-builder 26's own loader and JSON schema, and checked
 * against what the app needs: the targets, native modules unpacked from the asar archive (and N-API builds, so
 * that skipping the rebuild against Electron's headers is right), resources shipped without model weights,
 * and every run-time dependency the main process imports actually shipped.
 */
import { describe, expect, it } from 'vitest'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { builtinModules, createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = dirname(dirname(fileURLToPath(import.meta.url)))
const req = createRequire(import.meta.url)
const builderConfig = req('app-builder-lib/out/util/config/config') as {
  getConfig(projectDir: string, configPath: string | null, configFromOptions: unknown): Promise<Record<string, unknown>>
  validateConfiguration(
    config: unknown,
    debugLogger: { isEnabled: boolean; add(k: string, v: unknown): void }
  ): Promise<void>
}

type FileSet = { from: string; to: string; filter: string[] }
interface Config {
  appId: string
  productName: string
  npmRebuild: boolean
  asar: boolean
  asarUnpack: string[]
  /** Normalized by the loader: the plain patterns become one FileSet without `from`/`to`. */
  files: (Partial<FileSet> & { filter: string[] })[]
  extraResources: FileSet[]
  directories: { output: string }
  linux: { target: { target: string; arch: string[] }[]; category: string; executableName: string; files: FileSet[] }
  deb: { depends: string[] }
  win: { target: { target: string; arch: string[] }[]; files: FileSet[] }
  nsis: { deleteAppDataOnUninstall: boolean }
  mac: { target: { target: string; arch: string[] }[]; files: FileSet[] }
}

let loaded: Promise<Config> | undefined

/** electron-builder's loader normalizes the file patterns in place, so the config is loaded once. */
function loadConfig(): Promise<Config> {
  loaded ??= (async () => {
    const config = await builderConfig.getConfig(repo, null, null)
    await builderConfig.validateConfiguration(config, { isEnabled: false, add: () => undefined })
    return config as unknown as Config
  })()
  return loaded
}

function walk(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...walk(p))
    else out.push(p)
  }
  return out
}

describe('electron-builder.yml', () => {
  it('is valid for electron-builder 26 (its loader and JSON schema)', async () => {
    const c = await loadConfig()
    expect(c.appId).toBe('org.plmsae.workbench')
    expect(c.productName).toBe('PLM-SAE Workbench')
  })

  it('targets Linux AppImage + deb (Science), Windows NSIS and macOS dmg', async () => {
    const c = await loadConfig()
    expect(c.linux.target.map(t => t.target)).toEqual(['AppImage', 'deb'])
    expect(c.linux.target.every(t => t.arch.includes('x64'))).toBe(true)
    expect(c.linux.category).toBe('Science')
    expect(c.linux.executableName).toBe('plm-sae-workbench')
    expect(c.deb.depends).toEqual(expect.arrayContaining(['libgtk-3-0', 'libnss3', 'libstdc++6']))
    expect(c.win.target.map(t => t.target)).toEqual(['nsis'])
    expect(c.mac.target.map(t => t.target)).toEqual(['dmg'])
    // onnxruntime-node has macOS binaries for arm64 only: a dmg for x64 would not start.
    expect(c.mac.target[0].arch).toEqual(['arm64'])
    expect(c.nsis.deleteAppDataOnUninstall).toBe(false)
  })

  it('unpacks the native modules from the asar archive', async () => {
    const c = await loadConfig()
    expect(c.asar).toBe(true)
    expect(c.asarUnpack).toEqual(
      expect.arrayContaining([
        'node_modules/onnxruntime-node/bin/**',
        'node_modules/better-sqlite3/prebuilds/**',
        '**/*.node'
      ])
    )
  })

  it('skips the native rebuild, which is right because every shipped native module is an N-API build', async () => {
    const c = await loadConfig()
    expect(c.npmRebuild).toBe(false)
    const natives = [
      ...walk(join(repo, 'node_modules/onnxruntime-node/bin')).filter(p => p.endsWith('.node')),
      ...walk(join(repo, 'node_modules/better-sqlite3/prebuilds')).filter(p => p.endsWith('.node'))
    ]
    expect(natives.length).toBeGreaterThanOrEqual(8)
    for (const p of natives) {
      const bytes = readFileSync(p)
      // N-API modules export napi_register_module_v1; modules tied to one Node/Electron ABI register with node_register_module_v<abi>.
      expect(bytes.includes('napi_register_module_v1'), `${relative(repo, p)} is not an N-API module`).toBe(true)
      expect(bytes.includes('node_register_module_v'), `${relative(repo, p)} is tied to one Node ABI`).toBe(false)
    }
  })

  it('ships resources/ as extra resources and never model weights', async () => {
    const c = await loadConfig()
    expect(c.extraResources).toHaveLength(1)
    const r = c.extraResources[0]
    expect(r.from).toBe('resources')
    expect(r.to).toBe('resources')
    const weights = r.filter.find(f => f.startsWith('!**/*.{'))
    for (const ext of ['safetensors', 'pt', 'pth', 'ckpt', 'bin', 'onnx', 'gguf'])
      expect(weights).toMatch(new RegExp(`[{,]${ext}[,}]`))
    const main = c.files.find(f => f.from === undefined)
    expect(main?.filter).toEqual(
      expect.arrayContaining(['out/**', 'package.json', '!node_modules/**', '!out/**/*.map'])
    )
  })

  it('ships every run-time dependency that the main process imports (electron-vite leaves them external)', async () => {
    const c = await loadConfig()
    const shipped = new Set<string>()
    for (const f of [...c.files, ...c.linux.files, ...c.win.files, ...c.mac.files])
      if (f.to) shipped.add(f.to.replace(/^node_modules\//, ''))
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
    const builtins = new Set(builtinModules)
    const offenders: string[] = []
    const mainSources = walk(join(repo, 'src', 'main')).filter(
      p => /\.tsx?$/.test(p) && !p.includes(`${join('src', 'main', 'cli')}`)
    )
    for (const file of mainSources) {
      const text = readFileSync(file, 'utf8')
      for (const m of text.matchAll(
        /^\s*import\s+(?!type\b)[^'"]*?from\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|\brequire\(\s*['"]([^'"]+)['"]\s*\)/gm
      )) {
        const spec = m[1] ?? m[2] ?? m[3]
        if (spec.startsWith('.') || spec.startsWith('node:') || builtins.has(spec)) continue
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]
        if (name in pkg.dependencies && !shipped.has(name)) offenders.push(`${relative(repo, file)} imports ${spec}`)
      }
    }
    expect(
      offenders,
      'these modules are externalized by electron-vite but not copied into the package (add a FileSet to electron-builder.yml)'
    ).toEqual([])
    for (const n of ['better-sqlite3', 'onnxruntime-node', 'onnxruntime-common', 'commander'])
      expect(shipped.has(n)).toBe(true)
  })
})
