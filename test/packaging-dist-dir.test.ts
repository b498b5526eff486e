/**
 * `npm run dist:dir` on this repository (electron-vite build + scripts/dist.mjs → electron-builder `--linux
 * dir`), with a stand-in Electron distribution (`-c.electronDist`: the binary cannot be downloaded here) and
 * the output in a temporary folder. The unpacked app is then checked as Electron would run it:
 * - resources/app.asar holds the main, worker, preload and renderer bundles, every file the build made in
 *   out/ (no source maps), byte for byte;
 * - the packaged main process, run under the Electron stand-in as a packaged app (`app.isPackaged`,
 *   `process.resourcesPath`), computes preload and renderer paths that are files inside app.asar, finds the
 *   bundled resources, answers IPC from its page, and runs its first-start job in the packaged worker;
 * - the native modules (better-sqlite3, onnxruntime-node) load under Node from app.asar.unpacked, where
 *   Electron's asar support sends their `require` of the `.node` file.
 *
 * Electron reads app.asar as a folder; here the archive is laid out as one (`app.asar/` with the packed files
 * extracted, each unpacked file a link to its copy in app.asar.unpacked, as Electron redirects it), so that
 * Node follows the same paths.
 */
import { execFile } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  symlinkSync,
  writeFileSync
} from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  IPC_INVOKE_CHANNEL,
  IPC_JOB_EVENT_CHANNEL,
  type AppInfo,
  type JobEvent,
  type ProjectInfo
} from '../src/shared/api'
import { ElemType, GraphBuilder, encodeModel } from '../src/main/engine/onnx/onnx-model'
import { markDesktopBuilt, REPO } from './helpers/desktop-build'
import {
  createElectronStandIn,
  loadMainProcess,
  type ElectronStandIn,
  type LoadedMain,
  type RecordedWindow
} from './helpers/electron-stand-in'
import { tempDir } from './helpers/tmp'

const run = promisify(execFile)
const req = createRequire(import.meta.url)
const asar = req('@electron/asar') as {
  getRawHeader(archive: string): { header: AsarEntry }
  extractFile(archive: string, file: string): Buffer
}

interface AsarEntry {
  size?: number
  unpacked?: boolean
  link?: string
  files?: Record<string, AsarEntry>
}

function asarFiles(dir: AsarEntry, prefix = ''): { path: string; unpacked: boolean }[] {
  const out: { path: string; unpacked: boolean }[] = []
  for (const [name, e] of Object.entries(dir.files ?? {})) {
    const p = prefix ? `${prefix}/${name}` : name
    if (e.files) out.push(...asarFiles(e, p))
    else if (e.link === undefined) out.push({ path: p, unpacked: e.unpacked === true })
  }
  return out
}

function walk(dir: string, base = dir): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...walk(p, base))
    else out.push(relative(base, p).split(sep).join('/'))
  }
  return out
}

const tmp = tempDir('dist-dir')
const electronDist = join(tmp.dir, 'electron-dist')
const release = join(tmp.dir, 'release')
const resourcesOut = join(release, 'linux-unpacked', 'resources')
const archive = join(resourcesOut, 'app.asar')
/** The package laid out as Electron reads it: resources/app.asar/ as a folder. */
const emulated = join(tmp.dir, 'as-electron-reads-it', 'resources')
const emulatedApp = join(emulated, 'app.asar')
let files: { path: string; unpacked: boolean }[] = []
let log = ''

beforeAll(async () => {
  // A stand-in for the unpacked Electron distribution.
  mkdirSync(join(electronDist, 'locales'), { recursive: true })
  mkdirSync(join(electronDist, 'resources'), { recursive: true })
  writeFileSync(join(electronDist, 'electron'), '#!/bin/sh\nexit 0\n')
  chmodSync(join(electronDist, 'electron'), 0o755)
  for (const f of ['LICENSE', 'LICENSES.chromium.html', 'version', 'chrome-sandbox', 'locales/en-US.pak'])
    writeFileSync(join(electronDist, f), 'x')
  const res = await run(
    'npm',
    ['run', 'dist:dir', '--', `-c.electronDist=${electronDist}`, `-c.directories.output=${release}`],
    {
      cwd: REPO,
      maxBuffer: 64 * 1024 * 1024,
      timeout: 420_000,
      env: { ...process.env, ELECTRON_BUILDER_CACHE: join(tmp.dir, 'builder-cache') }
    }
  )
  log = res.stdout + res.stderr
  markDesktopBuilt() // out/ now holds the build of these sources: the other desktop tests reuse it
  files = asarFiles(asar.getRawHeader(archive).header)

  // Electron's view of the archive: packed files read from it, unpacked ones from app.asar.unpacked.
  mkdirSync(emulated, { recursive: true })
  symlinkSync(join(resourcesOut, 'app.asar.unpacked'), join(emulated, 'app.asar.unpacked'), 'dir')
  symlinkSync(join(resourcesOut, 'resources'), join(emulated, 'resources'), 'dir')
  for (const f of files) {
    const to = join(emulatedApp, f.path)
    mkdirSync(dirname(to), { recursive: true })
    if (f.unpacked) symlinkSync(join(emulated, 'app.asar.unpacked', f.path), to)
    else writeFileSync(to, asar.extractFile(archive, f.path))
  }
}, 600_000)

afterAll(() => tmp.cleanup())

describe('npm run dist:dir with a stand-in Electron', () => {
  it('produces the unpacked app with app.asar', () => {
    expect(existsSync(archive), log).toBe(true)
    expect(existsSync(join(release, 'linux-unpacked', 'plm-sae-workbench'))).toBe(true)
  })

  it('app.asar holds every bundle electron-vite built, byte for byte, and the entry point package.json names', () => {
    const built = walk(join(REPO, 'out'))
      .filter(p => !p.endsWith('.map'))
      .map(p => `out/${p}`)
    expect(built).toEqual(
      expect.arrayContaining([
        'out/main/index.js',
        'out/main/workbench-worker.js',
        'out/preload/index.js',
        'out/renderer/index.html'
      ])
    )
    const packed = files.filter(f => f.path.startsWith('out/'))
    expect(packed.map(f => f.path).sort()).toEqual(built.sort())
    expect(packed.filter(f => f.unpacked)).toEqual([])
    for (const p of built) expect(asar.extractFile(archive, p).equals(readFileSync(join(REPO, p))), p).toBe(true)
    const pkg = JSON.parse(asar.extractFile(archive, 'package.json').toString('utf8')) as { main: string }
    expect(pkg.main).toBe('out/main/index.js')
  })

  it('the native modules load under Node from app.asar.unpacked: better-sqlite3 opens a database, onnxruntime-node runs a model', async () => {
    const b = new GraphBuilder('probe')
    const x = b.input('x', ElemType.FLOAT, [3])
    b.output(b.relu(x), 'y', ElemType.FLOAT, [3])
    const model = join(tmp.dir, 'probe.onnx')
    writeFileSync(model, encodeModel(b.build(), 'probe'))
    const script = `
      const [app, model] = process.argv.slice(1)
      const Database = require(app + '/node_modules/better-sqlite3')
      const db = new Database(':memory:')
      const v = db.prepare('select 41 + 1 as v').get().v
      const ort = require(app + '/node_modules/onnxruntime-node')
      ;(async () => {
        const s = await ort.InferenceSession.create(model, { executionProviders: ['cpu'] })
        const out = await s.run({ x: new ort.Tensor('float32', Float32Array.from([-1.5, 0, 2.25]), [3]) })
        const mapped = require('fs').readFileSync('/proc/self/maps', 'utf8').split('\\n').map((l) => l.split(/\\s+/).slice(5).join(' ')).filter((p) => /\\.node$|libonnxruntime/.test(p))
        console.log(JSON.stringify({ v, y: Array.from(out.y.data), mapped: [...new Set(mapped)] }))
      })().catch((e) => { console.error(e); process.exit(1) })`
    const res = await run(process.execPath, ['-e', script, emulatedApp, model], { cwd: tmp.dir })
    const out = JSON.parse(res.stdout) as { v: number; y: number[]; mapped: string[] }
    expect(out.v).toBe(42)
    expect(out.y).toEqual([0, 0, 2.25])
    // The shared objects mapped into the process are the unpacked ones, and nothing else of the kind.
    const unpacked = realpathSync(join(resourcesOut, 'app.asar.unpacked'))
    expect(out.mapped.sort()).toEqual(
      [
        'node_modules/better-sqlite3/prebuilds/linux-x64.node',
        'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1',
        'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node'
      ].map(p => join(unpacked, p))
    )
  })

  describe('the packaged main process under the Electron stand-in', () => {
    let electron: ElectronStandIn
    let main: LoadedMain
    let win: RecordedWindow
    const home = tempDir('dist-dir-home')
    const savedHome = process.env.PLM_SAE_HOME
    const seen: JobEvent[] = []

    beforeAll(async () => {
      process.env.PLM_SAE_HOME = home.dir
      delete process.env.ELECTRON_RENDERER_URL
      electron = createElectronStandIn({ version: '0.1.0', isPackaged: true })
      main = loadMainProcess(join(emulatedApp, 'out', 'main', 'index.js'), electron, { resourcesPath: emulated })
      const created = electron.nextWindow()
      electron.ready()
      win = await Promise.race([
        created,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`no window: ${JSON.stringify(electron.errorBoxes)}`)), 60_000)
        )
      ])
      win.webContents.toRenderer.on(IPC_JOB_EVENT_CHANNEL, (_e: unknown, ev: JobEvent) => seen.push(ev))
    }, 120_000)

    afterAll(async () => {
      electron?.closeAllWindows()
      main?.restore()
      await new Promise(r => setTimeout(r, 300))
      home.cleanup()
      if (savedHome === undefined) delete process.env.PLM_SAE_HOME
      else process.env.PLM_SAE_HOME = savedHome
    })

    it('loads its preload and renderer from inside app.asar', () => {
      expect(electron.errorBoxes).toEqual([])
      const inArchive = (p: string) => relative(emulatedApp, p).split(sep).join('/')
      const preload = win.options.webPreferences!.preload as string
      expect(inArchive(preload)).toBe('out/preload/index.js')
      expect(inArchive(win.loadedFile!)).toBe('out/renderer/index.html')
      for (const p of [inArchive(preload), inArchive(win.loadedFile!)])
        expect(files.find(f => f.path === p)).toEqual({ path: p, unpacked: false })
      // Every asset the page names is in the archive too.
      const html = asar.extractFile(archive, 'out/renderer/index.html').toString('utf8')
      const assets = [...html.matchAll(/(?:src|href)="\.\/([^"]+)"/g)].map(m => `out/renderer/${m[1]}`)
      expect(assets.length).toBeGreaterThanOrEqual(2)
      for (const a of assets)
        expect(
          files.some(f => f.path === a),
          a
        ).toBe(true)
    })

    it('finds the bundled resources and answers its own page over IPC', async () => {
      const pageUrl = `${pathToFileURL(win.loadedFile!).href}#/models`
      const info = (await electron.invoke(pageUrl, IPC_INVOKE_CHANNEL, 'appInfo', {})) as AppInfo
      expect(info).toMatchObject({ mode: 'desktop', version: '0.1.0', dataDir: home.dir })
      // The first start built the demo project from <resources>/resources/demo.
      const projects = (await electron.invoke(pageUrl, IPC_INVOKE_CHANNEL, 'listProjects', {})) as ProjectInfo[]
      expect(projects.map(p => [p.id, p.proteinCount])).toEqual([['demo', 100]])
      await expect(electron.invoke('file:///work/other/index.html', IPC_INVOKE_CHANNEL, 'appInfo', {})).rejects.toThrow(
        /Refused/
      )
    })

    it('runs its first-start job in the packaged worker, which loads the unpacked native modules', async () => {
      expect(main.workers.length).toBeGreaterThan(0)
      for (const w of main.workers)
        expect(relative(emulatedApp, w.file).split(sep).join('/')).toBe('out/main/workbench-worker.js')
      const deadline = Date.now() + 180_000
      const indexing = () =>
        seen.some(
          e =>
            e.job.kind === 'index' &&
            e.job.state === 'running' &&
            e.job.progress.unit === 'residues' &&
            e.job.progress.done > 0
        )
      while (!indexing() && !seen.some(e => e.job.state === 'failed') && Date.now() < deadline)
        await new Promise(r => setTimeout(r, 200))
      expect(seen.filter(e => e.job.state === 'failed').map(e => e.job.error)).toEqual([])
      expect(indexing()).toBe(true)
    }, 200_000)
  })
})
