/**
 * The Electron main process as built (`electron-vite build` → out/main/index.js), run under Node with a
 * stand-in for the `electron` module (test/helpers/electron-stand-in.ts) and a fresh data folder: the real
 * workbench service starts behind it (first start: the demo project and its index job in the built worker).
 * Checked: the preload, renderer and worker files it uses are the build's; the window's web preferences are
 * the hardened ones; IPC from the app's own page reaches the service, from anywhere else it is refused; a
 * request that fails validation (or names nothing) fails with the HTTP server's error message; navigation
 * away, new windows and webviews are refused; permissions are denied; every response gets the app's
 * Content-Security-Policy; the menu opens the renderer's views; closing the last window quits, except on macOS.
 */
import { existsSync, readFileSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  IPC_INVOKE_CHANNEL,
  IPC_JOB_EVENT_CHANNEL,
  type AppInfo,
  type JobEvent,
  type JobInfo,
  type ProjectInfo
} from '../src/shared/api'
import { CONTENT_SECURITY_POLICY, startHttpServer, type RunningHttpServer } from '../src/main/workbench/http-server'
import { openWorkbench, type WorkbenchService } from '../src/main/workbench/service'
import { VIEWS } from '../src/renderer/src/navigation'
import { buildDesktop, REPO, type DesktopBuild } from './helpers/desktop-build'
import {
  createElectronStandIn,
  loadMainProcess,
  withPlatform,
  type ElectronStandIn,
  type LoadedMain,
  type MenuItem,
  type RecordedWindow
} from './helpers/electron-stand-in'
import { tempDir } from './helpers/tmp'

const VERSION = '9.8.7-stand-in'
let build: DesktopBuild
let electron: ElectronStandIn
let main: LoadedMain
let win: RecordedWindow
let pageUrl: string
const home = tempDir('desktop-main')
const httpData = tempDir('desktop-main-http')
let httpService: WorkbenchService
let http: RunningHttpServer
const savedHome = process.env.PLM_SAE_HOME
const savedDevUrl = process.env.ELECTRON_RENDERER_URL

beforeAll(async () => {
  build = buildDesktop()
  process.env.PLM_SAE_HOME = home.dir
  delete process.env.ELECTRON_RENDERER_URL
  electron = createElectronStandIn({ version: VERSION })
  main = loadMainProcess(build.main, electron)
  const created = electron.nextWindow()
  electron.ready()
  win = await Promise.race([
    created,
    new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`no window within 60 s; error boxes: ${JSON.stringify(electron.errorBoxes)}`)),
        60_000
      )
    )
  ])
  pageUrl = `${pathToFileURL(build.renderer).href}#/models`
  // The HTTP server of `plm-sae serve`, for comparing errors (its own service and data folder).
  httpService = await openWorkbench({
    mode: 'browser',
    dataDir: httpData.dir,
    resourcesDir: join(REPO, 'resources'),
    firstRunDemo: false,
    runtime: { device: 'cpu', deviceId: 0, threads: 1 }
  })
  http = await startHttpServer({ api: httpService, staticDir: join(build.out, 'renderer'), port: 0 })
}, 300_000)

afterAll(async () => {
  // Quitting closes the service (its workers) through the app's own 'will-quit' handler.
  if (electron && electron.app.quitCalls === 0) electron.app.emit('will-quit', { preventDefault() {} })
  main?.restore()
  await http?.close()
  await httpService?.close()
  await new Promise(r => setTimeout(r, 200))
  home.cleanup()
  httpData.cleanup()
  if (savedHome === undefined) delete process.env.PLM_SAE_HOME
  else process.env.PLM_SAE_HOME = savedHome
  if (savedDevUrl !== undefined) process.env.ELECTRON_RENDERER_URL = savedDevUrl
})

const ipc = (method: unknown, request: unknown = {}, from: string | null = pageUrl): Promise<unknown> =>
  electron.invoke(from, IPC_INVOKE_CHANNEL, method, request)

async function httpError(method: string, body: unknown): Promise<{ status: number; message: string }> {
  const res = await fetch(`${http.url}api/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body)
  })
  const json = (await res.json()) as { error: { message: string } }
  return { status: res.status, message: json.error.message }
}

/** The message a rejected IPC call carries, without Electron's "Error invoking remote method" prefix. */
async function ipcError(method: unknown, request: unknown): Promise<string> {
  const e = await ipc(method, request).then(
    () => undefined,
    (err: Error) => err
  )
  expect(e, `${String(method)} should have failed`).toBeInstanceOf(Error)
  const m = /^Error invoking remote method 'workbench:invoke': Error: ([\s\S]*)$/.exec(e!.message)
  expect(m, e!.message).not.toBeNull()
  return m![1]
}

describe('the built main process under a stand-in Electron', () => {
  it('starts without an error and opens one window on the built renderer, with the built preload', async () => {
    expect(electron.errorBoxes).toEqual([])
    expect(electron.app.exitCodes).toEqual([])
    expect(electron.windows).toHaveLength(1)
    expect(win.loadedFile).toBe(build.renderer)
    expect(win.loadedUrl).toBe(pathToFileURL(build.renderer).href)
    expect(existsSync(win.loadedFile!)).toBe(true)
    const preload = win.options.webPreferences?.preload as string
    expect(preload).toBe(build.preload)
    expect(existsSync(preload)).toBe(true)
    expect(win.options.show).toBe(false)
    // Shown once it is ready to show (the stand-in says so on the next turn of the event loop).
    await new Promise(r => setImmediate(r))
    expect(win.shown).toBe(true)
  })

  it('gives the window the hardened web preferences', () => {
    expect(win.options.webPreferences).toEqual({
      preload: build.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false
    })
  })

  it('an IPC call from the app’s page reaches the workbench service the app opened', async () => {
    const info = (await ipc('appInfo')) as AppInfo
    expect(info.mode).toBe('desktop')
    expect(info.version).toBe(VERSION)
    expect(info.dataDir).toBe(home.dir)
    expect(info.canPickLocalFolders).toBe(true)
    const projects = (await ipc('listProjects')) as ProjectInfo[]
    expect(projects.map(p => p.id)).toEqual(['demo'])
    expect(info.currentProjectId).toBe('demo')
    // With a route and query, the page is still the app's own.
    expect(await ipc('listProjects', {}, `${pathToFileURL(build.renderer).href}#/feature-detail?feature=3`)).toEqual(
      projects
    )
  })

  it('runs jobs in the built worker, and sends their events to the window', async () => {
    const seen: JobEvent[] = []
    win.webContents.toRenderer.on(IPC_JOB_EVENT_CHANNEL, (_e: unknown, ev: JobEvent) => seen.push(ev))
    const jobs = (await ipc('listJobs')) as JobInfo[]
    expect(jobs.length).toBeGreaterThan(0)
    // The first start's work (demo models, then indexing the demo project) runs in worker threads from out/main.
    expect(main.workers.length).toBeGreaterThan(0)
    for (const w of main.workers) {
      expect(w.file).toBe(build.worker)
      expect(w.execArgv).toEqual([])
    }
    // The worker reports progress: job events reach the window over the job-event channel.
    const deadline = Date.now() + 120_000
    while (
      !seen.some(e => e.job.state === 'running' && e.job.progress.done > 0) &&
      !seen.some(e => e.job.state === 'failed') &&
      Date.now() < deadline
    )
      await new Promise(r => setTimeout(r, 100))
    expect(seen.filter(e => e.job.state === 'failed').map(e => e.job.error)).toEqual([])
    expect(seen.some(e => e.job.state === 'running' && e.job.progress.done > 0)).toBe(true)
    expect(win.webContents.sent.every(s => s.channel === IPC_JOB_EVENT_CHANNEL)).toBe(true)
    // Cancel the index job through IPC (the rest of this file does not need it).
    const index = ((await ipc('listJobs')) as JobInfo[]).find(
      j => j.kind === 'index' && (j.state === 'running' || j.state === 'queued')
    )
    if (index) expect(((await ipc('cancelJob', { jobId: index.id })) as JobInfo).id).toBe(index.id)
  }, 180_000)

  it('refuses IPC calls from any other page', async () => {
    const rendererHref = pathToFileURL(build.renderer).href
    for (const from of [
      'https://example.org/',
      'http://127.0.0.1:8765/',
      'file:///etc/passwd',
      `${rendererHref}.html`,
      rendererHref.replace('index.html', 'other.html'),
      'about:blank',
      '',
      null
    ]) {
      await expect(ipc('listProjects', {}, from), String(from)).rejects.toThrow(
        /Refused: the API is only available to the workbench window/
      )
    }
  })

  it('a request that fails validation fails with the same message as over HTTP', async () => {
    const cases: [string, unknown][] = [
      ['listProjects', { unexpected: 1 }],
      ['listFeatures', { projectId: 5 }],
      ['featureDetail', { projectId: 'demo', feature: -1 }],
      ['createProject', { name: '', source: { kind: 'demo' }, modelId: 'x', saeId: 'y' }],
      ['dropAllTables', {}],
      ['openProject', { projectId: 'no-such-project' }],
      [
        'startSteering',
        {
          projectId: 'demo',
          clamps: [
            { feature: 1, mode: 'absolute', value: 1 },
            { feature: 2, mode: 'absolute', value: 1 },
            { feature: -3, mode: 'absolute', value: 1 }
          ],
          settings: { mode: 'edit', n: 1, seed: 1, temperature: 0, rounds: 1, maskFraction: 0.1 },
          pll: false
        }
      ]
    ]
    for (const [method, request] of cases) {
      const overHttp = await httpError(method, request)
      expect(overHttp.status, method).toBeGreaterThanOrEqual(400)
      expect(await ipcError(method, request), method).toBe(overHttp.message)
    }
    // A bad nested field is named by its path, the same over both transports.
    expect(await ipcError('startSteering', cases.at(-1)![1])).toBe(
      'Invalid request: request.clamps[2].feature: must be between 0 and 16777216, got -3'
    )
    // Not an object at all (the HTTP server only sees JSON bodies): still a clear validation error.
    expect(await ipcError('listProjects', 'not an object')).toMatch(/^Invalid request: /)
  })

  it('refuses navigation away from the app, new windows and webviews; https links open in the browser', () => {
    const rendererHref = pathToFileURL(build.renderer).href
    const wc = win.webContents
    expect(wc.willNavigate(`${rendererHref}#/features`).defaultPrevented).toBe(false)
    for (const url of [
      'https://example.org/',
      'http://127.0.0.1:8765/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'data:text/html,hi'
    ]) {
      expect(wc.willNavigate(url).defaultPrevented, url).toBe(true)
    }
    expect(wc.willAttachWebview().defaultPrevented).toBe(true)
    expect(wc.windowOpen('https://www.uniprot.org/uniprotkb/P69905')).toEqual({ action: 'deny' })
    for (const url of ['http://example.org/', 'file:///etc/passwd', rendererHref, 'javascript:alert(1)'])
      expect(wc.windowOpen(url), url).toEqual({ action: 'deny' })
    expect(electron.openedExternally).toEqual(['https://www.uniprot.org/uniprotkb/P69905'])
  })

  it('denies every permission request', () => {
    expect(electron.permissionHandler).toBeDefined()
    for (const permission of [
      'media',
      'geolocation',
      'notifications',
      'clipboard-read',
      'openExternal',
      'fullscreen',
      'midi'
    ]) {
      let granted: boolean | undefined
      electron.permissionHandler!(win.webContents, permission, g => (granted = g))
      expect(granted, permission).toBe(false)
    }
  })

  it('sets the app’s Content-Security-Policy on every response, the one index.html carries too', () => {
    expect(electron.headerListeners).toHaveLength(1)
    let out: { responseHeaders?: Record<string, string[]> } | undefined
    electron.headerListeners[0]({ responseHeaders: { 'Content-Type': ['text/html'] } }, r => (out = r))
    expect(out?.responseHeaders).toEqual({
      'Content-Type': ['text/html'],
      'Content-Security-Policy': [CONTENT_SECURITY_POLICY]
    })
    // The <meta> policy of the built page is the same (less frame-ancestors, which a <meta> cannot carry).
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(
      readFileSync(build.renderer, 'utf8')
    )?.[1]
    const withoutFrameAncestors = CONTENT_SECURITY_POLICY.split('; ')
      .filter(d => !d.startsWith('frame-ancestors'))
      .join('; ')
    expect(meta).toBe(withoutFrameAncestors)
  })

  it('has a menu whose view items open the renderer’s views', async () => {
    const items: MenuItem[] = []
    const walk = (list: MenuItem[] | undefined): void => {
      for (const m of list ?? []) {
        items.push(m)
        walk(m.submenu)
      }
    }
    walk(electron.menuTemplate)
    expect(items.map(m => m.role).filter(Boolean)).toEqual(
      expect.arrayContaining(['quit', 'editMenu', 'reload', 'toggleDevTools', 'windowMenu', 'help'])
    )
    expect(items.some(m => m.role === 'appMenu')).toBe(false) // not macOS
    for (const m of items.filter(i => i.click && i.label !== 'About PLM-SAE Workbench')) await m.click!()
    const hashes = win.webContents.executed.map(code => /^window\.location\.hash = "(#\/[\w-]+)"$/.exec(code)?.[1])
    expect(hashes.sort()).toEqual(VIEWS.map(v => `#/${v.name}`).sort())
    await items.find(i => i.label === 'About PLM-SAE Workbench')!.click!()
  })

  it('closing the last window keeps the app on macOS, quits it elsewhere', async () => {
    await withPlatform('darwin', async () => {
      electron.closeAllWindows()
      expect(electron.app.quitCalls).toBe(0)
      // macOS: clicking the dock icon with no window opens a new one.
      const reopened = electron.nextWindow()
      electron.app.emit('activate')
      const second = await reopened
      expect(second.loadedFile).toBe(build.renderer)
      expect(electron.windows).toHaveLength(2)
    })
    electron.app.emit('activate') // a window is open: no new one
    expect(electron.windows).toHaveLength(2)
    await withPlatform('linux', () => electron.closeAllWindows())
    expect(electron.app.quitCalls).toBe(1)
  })
})

describe('the same build in development and packaged, with ELECTRON_RENDERER_URL set', () => {
  const devUrl = 'http://localhost:5173/'
  const packagedResources = tempDir('desktop-main-resources')

  async function startAgain(isPackaged: boolean): Promise<{ electron: ElectronStandIn; win: RecordedWindow }> {
    main.restore()
    // The project of the first start exists: no first-start job this time.
    process.env.ELECTRON_RENDERER_URL = devUrl
    const again = createElectronStandIn({ version: VERSION, isPackaged })
    try {
      main = loadMainProcess(build.main, again, { resourcesPath: packagedResources.dir })
    } finally {
      delete process.env.ELECTRON_RENDERER_URL
    }
    const created = again.nextWindow()
    again.ready()
    const w = await created
    expect(again.errorBoxes).toEqual([])
    return { electron: again, win: w }
  }

  beforeAll(async () => {
    // The first app quit in the test above ('will-quit' closed its service).
    await new Promise(r => setTimeout(r, 300))
    symlinkSync(join(REPO, 'resources'), join(packagedResources.dir, 'resources'), 'dir')
  })

  afterAll(() => packagedResources.cleanup())

  it('in development: loads the dev server, whose origin alone may call the API and be navigated to', async () => {
    const dev = await startAgain(false)
    expect(dev.win.loadedUrl).toBe(devUrl)
    expect(dev.win.loadedFile).toBeUndefined()
    expect(
      ((await dev.electron.invoke(`${devUrl}#/features`, IPC_INVOKE_CHANNEL, 'appInfo', {})) as AppInfo).mode
    ).toBe('desktop')
    for (const from of [
      'http://localhost:5173.evil.example/',
      'http://localhost:5174/',
      'https://localhost:5173/',
      pathToFileURL(build.renderer).href
    ]) {
      await expect(dev.electron.invoke(from, IPC_INVOKE_CHANNEL, 'appInfo', {}), from).rejects.toThrow(/Refused/)
    }
    expect(dev.win.webContents.willNavigate(`${devUrl}#/protein`).defaultPrevented).toBe(false)
    expect(dev.win.webContents.willNavigate('http://localhost:5173.evil.example/').defaultPrevented).toBe(true)
    await withPlatform('linux', () => dev.electron.closeAllWindows())
    expect(dev.electron.app.quitCalls).toBe(1)
    await new Promise(r => setTimeout(r, 300))
  })

  it('packaged: ignores the dev server, for loading, IPC and navigation alike', async () => {
    const packaged = await startAgain(true)
    expect(packaged.win.loadedFile).toBe(build.renderer)
    expect(packaged.win.loadedUrl).toBe(pathToFileURL(build.renderer).href)
    const own = `${pathToFileURL(build.renderer).href}#/models`
    expect(((await packaged.electron.invoke(own, IPC_INVOKE_CHANNEL, 'appInfo', {})) as AppInfo).mode).toBe('desktop')
    await expect(packaged.electron.invoke(devUrl, IPC_INVOKE_CHANNEL, 'appInfo', {})).rejects.toThrow(/Refused/)
    expect(packaged.win.webContents.willNavigate(`${devUrl}#/features`).defaultPrevented).toBe(true)
    // The development-only menu item is gone.
    const roles = JSON.stringify(packaged.electron.menuTemplate, (k, v: unknown) => (k === 'click' ? undefined : v))
    expect(roles).not.toContain('toggleDevTools')
    await withPlatform('linux', () => packaged.electron.closeAllWindows())
    await new Promise(r => setTimeout(r, 300))
  })
})
