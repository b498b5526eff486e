/**
 * What goes into the installable package, checked with electron-builder itself and no Electron binary:
 * electron-builder 26 packs a staging copy of the project (this package.json, electron-builder.yml, the real
 * node_modules and resources/, a stand-in out/ plus decoy sources, tests and model weights) for linux-x64 as a
 * `dir` target, with `electronDist` pointing at a stand-in Electron folder. The resulting app.asar,
 * app.asar.unpacked and extra resources are then inspected, and the packaged node_modules tree is loaded by
 * Node (better-sqlite3 opens a database, onnxruntime-node runs a model) to show that it is complete.
 * The Windows and macOS file sets are checked with electron-builder's FileMatcher on the same config.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFile } from 'node:child_process'
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  closeSync,
  readdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
  lstatSync
} from 'node:fs'
import { builtinModules, createRequire } from 'node:module'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { tempDir } from './helpers/tmp'
import { ElemType, GraphBuilder, encodeModel } from '../src/main/engine/onnx/onnx-model'
import { resourcesDir } from '../src/main/engine/fs/resources-path'

const run = promisify(execFile)
const repo = dirname(dirname(fileURLToPath(import.meta.url)))
const req = createRequire(import.meta.url)
const asar = req('@electron/asar') as {
  getRawHeader(archive: string): { header: AsarDir }
  extractAll(archive: string, dest: string): void
}
const { FileMatcher } = req('app-builder-lib/out/fileMatcher') as {
  FileMatcher: new (
    from: string,
    to: string,
    expand: (s: string) => string,
    patterns: string[]
  ) => { createFilter(): (file: string, stat: import('node:fs').Stats) => boolean }
}
const yaml = req('js-yaml') as { load(text: string): unknown }

interface AsarEntry {
  size?: number
  unpacked?: boolean
  link?: string
  files?: Record<string, AsarEntry>
}
type AsarDir = AsarEntry & { files: Record<string, AsarEntry> }

const WEIGHT_EXT = /\.(safetensors|pt|pth|ckpt|bin|onnx|gguf|h5|npz|npy|pkl)$/i
const NATIVE = /\.(node|so(\.\d+)*|dll|dylib)$/

function asarFiles(dir: AsarEntry, prefix = ''): { path: string; size: number; unpacked: boolean }[] {
  const out: { path: string; size: number; unpacked: boolean }[] = []
  for (const [name, e] of Object.entries(dir.files ?? {})) {
    const p = prefix ? `${prefix}/${name}` : name
    if (e.files) out.push(...asarFiles(e, p))
    else if (e.link === undefined) out.push({ path: p, size: e.size ?? 0, unpacked: e.unpacked === true })
  }
  return out
}

function walk(dir: string, base = dir): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    const st = lstatSync(p)
    if (st.isDirectory()) out.push(...walk(p, base))
    else out.push(relative(base, p).split(sep).join('/'))
  }
  return out
}

/** The ELF machine of a shared object (62 = x86-64, 183 = AArch64); undefined for non-ELF files. */
function elfMachine(path: string): number | undefined {
  const fd = openSync(path, 'r')
  try {
    const b = Buffer.alloc(20)
    readSync(fd, b, 0, 20, 0)
    if (b.readUInt32BE(0) !== 0x7f454c46) return undefined
    return b.readUInt16LE(18)
  } finally {
    closeSync(fd)
  }
}

function packageNameOf(path: string): string | undefined {
  const m = path.match(/^node_modules\/((?:@[^/]+\/)?[^/]+)\//)
  return m?.[1]
}

describe('the linux-x64 package built by electron-builder from electron-builder.yml', () => {
  const tmp = tempDir('packaging')
  const stage = join(tmp.dir, 'project')
  const electronDist = join(tmp.dir, 'electron-dist')
  const release = join(tmp.dir, 'release')
  const appOut = join(release, 'linux-unpacked')
  const resourcesOut = join(appOut, 'resources')
  let files: { path: string; size: number; unpacked: boolean }[] = []
  let prodPackages: Set<string>
  let builderLog = ''

  beforeAll(async () => {
    // The project as electron-builder sees it: the real package.json, config, node_modules and resources; a
    // stand-in for the electron-vite output (or the real one when it has been built); decoys that must stay out.
    mkdirSync(stage, { recursive: true })
    cpSync(join(repo, 'package.json'), join(stage, 'package.json'))
    cpSync(join(repo, 'electron-builder.yml'), join(stage, 'electron-builder.yml'))
    symlinkSync(join(repo, 'node_modules'), join(stage, 'node_modules'), 'dir')
    cpSync(join(repo, 'resources'), join(stage, 'resources'), { recursive: true })
    mkdirSync(join(stage, 'resources', 'decoy-model'), { recursive: true })
    writeFileSync(join(stage, 'resources', 'decoy-model', 'model.safetensors'), Buffer.alloc(1024))
    writeFileSync(join(stage, 'resources', 'decoy-model', 'pytorch_model.bin'), Buffer.alloc(1024))
    if (existsSync(join(repo, 'out', 'main', 'index.js')))
      cpSync(join(repo, 'out'), join(stage, 'out'), { recursive: true })
    else {
      for (const d of ['main', 'preload', 'renderer/assets']) mkdirSync(join(stage, 'out', d), { recursive: true })
      writeFileSync(join(stage, 'out', 'main', 'index.js'), "'use strict'\n")
      writeFileSync(join(stage, 'out', 'preload', 'index.mjs'), '\n')
      writeFileSync(join(stage, 'out', 'renderer', 'index.html'), '<!doctype html>\n')
      writeFileSync(join(stage, 'out', 'renderer', 'assets', 'index.js'), '\n')
    }
    writeFileSync(join(stage, 'out', 'main', 'index.js.map'), '{}')
    for (const [p, text] of [
      ['src/main/index.ts', 'export {}\n'],
      ['test/app.test.ts', 'export {}\n'],
      ['bench/infer.ts', 'export {}\n'],
      ['tsconfig.json', '{}\n'],
      ['electron.vite.config.ts', 'export default {}\n'],
      ['README.md', '# readme\n']
    ]) {
      mkdirSync(dirname(join(stage, p)), { recursive: true })
      writeFileSync(join(stage, p), text)
    }
    // A stand-in for the unpacked Electron distribution (the binary cannot be downloaded here).
    mkdirSync(join(electronDist, 'locales'), { recursive: true })
    mkdirSync(join(electronDist, 'resources'), { recursive: true })
    writeFileSync(join(electronDist, 'electron'), '#!/bin/sh\nexit 0\n')
    chmodSync(join(electronDist, 'electron'), 0o755)
    for (const f of ['LICENSE', 'LICENSES.chromium.html', 'version', 'chrome-sandbox', 'locales/en-US.pak'])
      writeFileSync(join(electronDist, f), 'x')

    const cli = join(repo, 'node_modules', 'electron-builder', 'cli.js')
    const res = await run(
      process.execPath,
      [cli, '--linux', 'dir', '--x64', `-c.electronDist=${electronDist}`, `-c.directories.output=${release}`],
      {
        cwd: stage,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, ELECTRON_BUILDER_CACHE: join(tmp.dir, 'cache') }
      }
    )
    builderLog = res.stdout + res.stderr
    files = asarFiles(asar.getRawHeader(join(resourcesOut, 'app.asar')).header)

    const ls = await run('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
      cwd: repo,
      maxBuffer: 16 * 1024 * 1024
    }).catch((e: { stdout: string }) => ({ stdout: e.stdout }))
    prodPackages = new Set(
      ls.stdout
        .split('\n')
        .map(l => l.trim())
        .filter(l => l.includes(`${sep}node_modules${sep}`))
        .map(l =>
          l
            .slice(l.lastIndexOf(`node_modules${sep}`) + 'node_modules/'.length)
            .split(sep)
            .join('/')
        )
    )
  }, 240_000)

  afterAll(() => tmp.cleanup())

  it('builds with electron-builder and keeps the electron-vite entry point', () => {
    expect(existsSync(join(resourcesOut, 'app.asar')), builderLog).toBe(true)
    const paths = files.map(f => f.path)
    expect(paths).toContain('out/main/index.js')
    expect(paths).toContain('package.json')
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { main: string }
    expect(paths).toContain(pkg.main)
    expect(existsSync(join(appOut, 'plm-sae-workbench'))).toBe(true)
  })

  it('ships no sources, tests, source maps, type declarations or project files', () => {
    const bad = files
      .map(f => f.path)
      .filter(
        p =>
          /^(src|test|bench|scripts|resources)\//.test(p) ||
          /\.(ts|tsx|mts|cts|map)$/.test(p) ||
          /(^|\/)(tsconfig\.json|electron-builder\.yml|electron\.vite\.config\.ts|README\.md)$/.test(p)
      )
    expect(bad).toEqual([])
    const shippedPkg = JSON.parse(asarFileText(join(resourcesOut, 'app.asar'), 'package.json')) as Record<
      string,
      unknown
    >
    expect(shippedPkg.devDependencies).toBeUndefined()
    expect(shippedPkg.scripts).toBeUndefined()
  })

  it('ships only production dependencies the main process loads, none of the dev dependencies', () => {
    const shipped = new Set(files.map(f => packageNameOf(f.path)).filter((n): n is string => n !== undefined))
    expect([...shipped].sort()).toEqual([
      'better-sqlite3',
      'commander',
      'onnxruntime-common',
      'onnxruntime-node',
      'webgpu'
    ])
    const notProd = [...shipped].filter(n => !prodPackages.has(n))
    expect(notProd).toEqual([])
    const dev = Object.keys(
      (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> })
        .devDependencies
    )
    expect([...shipped].filter(n => dev.includes(n))).toEqual([])
    // The renderer's libraries are bundled by Vite, not shipped again.
    expect(shipped.has('molstar')).toBe(false)
    expect(shipped.has('d3')).toBe(false)
  })

  it('every module the packaged main-process and preload code requires is in the package or built in', () => {
    const shipped = new Set(files.map(f => packageNameOf(f.path)).filter((n): n is string => n !== undefined))
    const code = files.filter(f => /^out\/(main|preload)\/.*\.(js|mjs|cjs)$/.test(f.path))
    expect(code.length).toBeGreaterThan(0)
    const missing: string[] = []
    for (const f of code) {
      const text = asarFileText(join(resourcesOut, 'app.asar'), f.path)
      for (const m of text.matchAll(
        /\brequire\(\s*["']([^"'./][^"']*)["']\s*\)|\bfrom\s*["']([^"'./][^"']*)["']|\bimport\(\s*["']([^"'./][^"']*)["']\s*\)/g
      )) {
        const spec = m[1] ?? m[2] ?? m[3]
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]
        if (spec.startsWith('node:') || builtinModules.includes(name) || name === 'electron' || shipped.has(name))
          continue
        missing.push(`${f.path} requires ${spec}`)
      }
    }
    expect(missing).toEqual([])
  })

  it('ships only linux-x64 native binaries, all unpacked from the asar archive', () => {
    const native = files.filter(f => NATIVE.test(f.path))
    expect(native.map(f => f.path).sort()).toEqual(
      expect.arrayContaining([
        'node_modules/better-sqlite3/prebuilds/linux-x64.node',
        'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1',
        'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node'
      ])
    )
    expect(native.filter(f => !f.unpacked).map(f => f.path)).toEqual([])
    expect(
      native.filter(f => /win32|darwin|arm64|musl|\.dll$|\.dylib$|tensorrt/.test(f.path)).map(f => f.path)
    ).toEqual([])
    for (const f of native) {
      const onDisk = join(resourcesOut, 'app.asar.unpacked', f.path)
      expect(existsSync(onDisk), onDisk).toBe(true)
      expect(elfMachine(onDisk), `${f.path} must be an x86-64 ELF object`).toBe(62)
    }
    // Nothing else of those packages' other-platform payloads is in the archive either.
    expect(files.filter(f => /onnxruntime-node\/bin\/napi-v6\/(?!linux\/x64\/)/.test(f.path))).toEqual([])
  })

  it('the packaged node_modules load: better-sqlite3 opens a database, onnxruntime-node runs a model', async () => {
    const app = join(tmp.dir, 'extracted')
    asar.extractAll(join(resourcesOut, 'app.asar'), app)
    const b = new GraphBuilder('probe')
    const x = b.input('x', ElemType.FLOAT, [3])
    b.output(b.relu(x), 'y', ElemType.FLOAT, [3])
    const model = join(tmp.dir, 'probe.onnx')
    writeFileSync(model, encodeModel(b.build(), 'probe'))
    const script = `
      const [app, model] = process.argv.slice(1)
      const Database = require(app + '/node_modules/better-sqlite3')
      const db = new Database(':memory:')
      db.exec('create table t(x integer)'); db.prepare('insert into t values (?)').run(41)
      const sum = db.prepare('select x + 1 as v from t').get().v
      const ort = require(app + '/node_modules/onnxruntime-node')
      ;(async () => {
        const { Command } = await import(app + '/node_modules/commander/index.js')
        const s = await ort.InferenceSession.create(model, { executionProviders: ['cpu'] })
        const out = await s.run({ x: new ort.Tensor('float32', Float32Array.from([-1.5, 0, 2.25]), [3]) })
        console.log(JSON.stringify({ sum, y: Array.from(out.y.data), commander: typeof Command }))
      })().catch((e) => { console.error(e); process.exit(1) })`
    const res = await run(process.execPath, ['-e', script, app, model], { cwd: tmp.dir })
    expect(JSON.parse(res.stdout)).toEqual({ sum: 42, y: [0, 0, 2.25], commander: 'function' })
  })

  it('ships resources/ as extra resources, found through the packaged resources path, without model weights', () => {
    const dir = resourcesDir({
      isPackaged: true,
      resourcesPath: resourcesOut,
      fromDir: join(resourcesOut, 'app.asar', 'out', 'main'),
      env: {}
    })
    expect(dir).toBe(join(resourcesOut, 'resources'))
    const shipped = walk(dir)
    const expected = walk(join(repo, 'resources')).filter(
      p => !WEIGHT_EXT.test(p) && !p.split('/').some(s => s.startsWith('.'))
    )
    expect(shipped.sort()).toEqual(expected.sort())
    expect(shipped).toContain('esm/vocab.txt')
    expect(shipped.filter(p => WEIGHT_EXT.test(p))).toEqual([])
    // No model weights anywhere in the app either.
    const everywhere = [...files.map(f => f.path), ...walk(appOut)]
    expect(everywhere.filter(p => WEIGHT_EXT.test(p) && !p.endsWith('.bin') && !p.includes('locales'))).toEqual([])
    expect(everywhere.filter(p => /safetensors|pytorch_model/.test(p))).toEqual([])
  })

  it('reports the package size', () => {
    const asarBytes = statSync(join(resourcesOut, 'app.asar')).size
    const unpackedBytes = walk(join(resourcesOut, 'app.asar.unpacked')).reduce(
      (s, p) => s + statSync(join(resourcesOut, 'app.asar.unpacked', p)).size,
      0
    )
    const resourceBytes = walk(join(resourcesOut, 'resources')).reduce(
      (s, p) => s + statSync(join(resourcesOut, 'resources', p)).size,
      0
    )
    const allPlatforms = ['onnxruntime-node', 'better-sqlite3'].reduce(
      (s, n) =>
        s +
        walk(join(repo, 'node_modules', n)).reduce((t, p) => t + statSync(join(repo, 'node_modules', n, p)).size, 0),
      0
    )
    const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`
    console.log(
      `package contents (linux-x64, Electron itself not included): app.asar ${mb(asarBytes)}, app.asar.unpacked ${mb(unpackedBytes)}, ` +
        `resources ${mb(resourceBytes)}, total ${mb(asarBytes + unpackedBytes + resourceBytes)}; ` +
        `the npm packages onnxruntime-node + better-sqlite3 with every platform's binaries: ${mb(allPlatforms)}`
    )
    expect(unpackedBytes).toBeLessThan(allPlatforms / 3)
  })
})

function asarFileText(archive: string, file: string): string {
  return (req('@electron/asar') as { extractFile(a: string, f: string): Buffer })
    .extractFile(archive, file)
    .toString('utf8')
}

describe('the Windows and macOS file sets (electron-builder FileMatcher on the same config)', () => {
  type FileSet = { from: string; to: string; filter: string[] }
  const config = yaml.load(readFileSync(join(repo, 'electron-builder.yml'), 'utf8')) as Record<
    string,
    { files?: FileSet[] }
  >

  function selected(platform: 'linux' | 'win' | 'mac', arch: string): string[] {
    const out: string[] = []
    for (const set of config[platform].files ?? []) {
      const from = join(repo, set.from)
      const filter = new FileMatcher(from, set.to, s => s.replace(/\$\{arch\}/g, arch), set.filter).createFilter()
      for (const rel of walk(from)) {
        const abs = join(from, rel)
        if (filter(abs, statSync(abs))) out.push(`${set.to}/${rel}`)
      }
    }
    return out
  }

  it.each([
    ['win', 'x64', 'win32/x64', 'win32-x64.node', ['onnxruntime.dll', 'DirectML.dll'], 'win32-x64'],
    ['mac', 'arm64', 'darwin/arm64', 'darwin-arm64.node', ['libonnxruntime.1.30.0.dylib'], 'darwin-universal'],
    ['linux', 'arm64', 'linux/arm64', 'linux-arm64.node', ['libonnxruntime.so.1'], 'linux-arm64']
  ] as const)(
    '%s %s: only that platform’s onnxruntime, better-sqlite3 and Dawn (webgpu) binaries',
    (platform, arch, ortDir, sqlite, libs, dawnDir) => {
      const list = selected(platform, arch)
      const native = list.filter(p => NATIVE.test(p))
      expect(native).toContain(`node_modules/onnxruntime-node/bin/napi-v6/${ortDir}/onnxruntime_binding.node`)
      for (const l of libs) expect(native).toContain(`node_modules/onnxruntime-node/bin/napi-v6/${ortDir}/${l}`)
      expect(native).toContain(`node_modules/better-sqlite3/prebuilds/${sqlite}`)
      expect(native).toContain(`node_modules/webgpu/dist/${dawnDir}/dawn.node`)
      const foreign = native.filter(
        p => !p.includes(`/${ortDir}/`) && !p.endsWith(`/${sqlite}`) && !p.includes(`/webgpu/dist/${dawnDir}/`)
      )
      expect(foreign).toEqual([])
      expect(list).toContain('node_modules/onnxruntime-node/dist/binding.js')
      expect(list).toContain('node_modules/better-sqlite3/lib/index.js')
      expect(list.filter(p => /\.(ts|map)$|\/(src|deps|script)\//.test(p))).toEqual([])
    }
  )
})
