/**
 * The desktop app as far as it runs without Electron's binary: the built main process under the Electron
 * stand-in (real workbench service, fresh data folder, first start), the built preload in its own context
 * wired to the main process's IPC handler, and the built renderer loaded by Debian's Chromium from file://
 * as the window loads it. Every response carries the Content-Security-Policy the main process's
 * `onHeadersReceived` hook sets (the hook itself is called for each file). The page's `window.workbench` is
 * the object the preload exposed: each call crosses to Node (playwright's exposeBinding, standing in for the
 * context bridge) and goes preload → `ipcRenderer.invoke` → the main's handler (which checks the page's URL)
 * → the service; job events go back main → `webContents.send` → preload → page.
 *
 * Chromium alone refuses module scripts from file:// (origin null) unless started with
 * --allow-file-access-from-files; Electron lets the app's file:// page load its own scripts.
 */
import { cpSync, readFileSync, rmSync } from 'node:fs'
import { extname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { API_METHODS, IPC_INVOKE_CHANNEL, type JobInfo, type WorkbenchApi } from '../../src/shared/api'
import { buildDesktop, REPO, type DesktopBuild } from '../helpers/desktop-build'
import {
  createElectronStandIn,
  loadMainProcess,
  type ElectronStandIn,
  type LoadedMain,
  type RecordedWindow
} from '../helpers/electron-stand-in'
import { runPreload, type PreloadRun } from '../helpers/preload-runner'
import { tempDir } from '../helpers/tmp'
import { CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS } from './harness'

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
  '.json': 'application/json'
}

let build: DesktopBuild
let electron: ElectronStandIn
let main: LoadedMain
let win: RecordedWindow
let preload: PreloadRun
let browser: Browser
let page: Page
const home = tempDir('desktop-renderer')
const problems: string[] = []
const fileRequests: string[] = []
const savedHome = process.env.PLM_SAE_HOME
/** Inside the repository, so that the copy finds node_modules and resources/ as out/ does. */
const installed = join(REPO, 'test-results', 'PLM-SAE Workbench')

beforeAll(async () => {
  build = buildDesktop()
  // Run a copy in a folder named like the .deb's install folder (/opt/PLM-SAE Workbench): a space in the path
  // is in every URL, so the page's own URL (as Chromium writes it) must still be recognised as the app's page.
  rmSync(installed, { recursive: true, force: true })
  cpSync(build.out, join(installed, 'out'), { recursive: true })
  process.env.PLM_SAE_HOME = home.dir
  delete process.env.ELECTRON_RENDERER_URL
  electron = createElectronStandIn({ version: '0.1.0' })
  main = loadMainProcess(join(installed, 'out', 'main', 'index.js'), electron)
  const created = electron.nextWindow()
  electron.ready()
  win = await created
  expect(electron.errorBoxes).toEqual([])

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, '--allow-file-access-from-files']
  })
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
  // The preload of this window: its ipcRenderer talks to the main process's handler as this page.
  preload = runPreload(win.options.webPreferences!.preload as string, {
    ipc: win.webContents.toRenderer,
    invoke: (channel, args) => electron.invoke(page.url(), channel, ...args)
  })
  expect(preload.exposed.map(e => e.key)).toEqual(['workbench'])
  const bridge = preload.exposed[0].api as WorkbenchApi
  await page.exposeBinding('__workbenchInvoke', (_source, method: string, request: unknown) =>
    (bridge[method as (typeof API_METHODS)[number]] as (r: unknown) => Promise<unknown>)(request)
  )
  bridge.onJobEvent(
    e =>
      void page
        .evaluate(
          ev => (window as unknown as { __workbenchJobEvent?: (e: unknown) => void }).__workbenchJobEvent?.(ev),
          e
        )
        .catch(() => undefined)
  )
  await page.addInitScript(
    (methods: string[]) => {
      const w = window as unknown as Record<string, unknown>
      const listeners = new Set<(e: unknown) => void>()
      const invoke = w.__workbenchInvoke as (m: string, r: unknown) => Promise<unknown>
      const api: Record<string, unknown> = Object.fromEntries(
        methods.map(m => [m, (request: unknown) => invoke(m, request)])
      )
      api.onJobEvent = (l: (e: unknown) => void) => {
        listeners.add(l)
        return () => listeners.delete(l)
      }
      Object.defineProperty(window, 'workbench', { value: Object.freeze(api), writable: false, configurable: false })
      w.__workbenchJobEvent = (e: unknown) => listeners.forEach(l => l(e))
      w.__cspViolations = []
      document.addEventListener('securitypolicyviolation', e =>
        (w.__cspViolations as string[]).push(`${e.violatedDirective} ${e.blockedURI}`)
      )
    },
    [...API_METHODS]
  )

  // Every file the page loads is read from disk with the headers the main process's hook gives it.
  await page.route(
    url => url.protocol === 'file:',
    async route => {
      const url = route.request().url()
      fileRequests.push(url)
      let body: Buffer
      try {
        body = readFileSync(fileURLToPath(url.split(/[?#]/)[0]))
      } catch {
        problems.push(`missing file: ${url}`)
        return route.abort('filenotfound')
      }
      let headers: Record<string, string[]> = {
        'Content-Type': [TYPES[extname(fileURLToPath(url)).toLowerCase()] ?? 'application/octet-stream']
      }
      for (const hook of electron.headerListeners)
        hook({ responseHeaders: headers }, r => (headers = r.responseHeaders ?? headers))
      await route.fulfill({
        status: 200,
        body,
        headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.join(', ')]))
      })
    }
  )
  page.on('pageerror', e => problems.push(`pageerror: ${e.message}`))
  page.on('console', m => {
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text()))
      problems.push(`console ${m.type()}: ${m.text()}`)
  })
  page.on('requestfailed', r => problems.push(`failed: ${r.url()} ${r.failure()?.errorText ?? ''}`))
}, 300_000)

afterAll(async () => {
  await browser?.close().catch(() => undefined)
  electron?.closeAllWindows() // not macOS: quits, and 'will-quit' closes the service
  main?.restore()
  await new Promise(r => setTimeout(r, 200))
  home.cleanup()
  rmSync(installed, { recursive: true, force: true })
  if (savedHome === undefined) delete process.env.PLM_SAE_HOME
  else process.env.PLM_SAE_HOME = savedHome
})

describe('the built renderer from file://, on the main process and preload through IPC', () => {
  it('starts on the Models & projects view, in desktop mode, talking over IPC only', async () => {
    // Where Electron's loadFile goes: a file:// URL with the folder's space as Chromium writes it.
    expect(win.loadedFile).toBe(join(installed, 'out', 'renderer', 'index.html'))
    await page.goto(win.loadedUrl!)
    expect(page.url()).toContain('/PLM-SAE%20Workbench/out/renderer/index.html')
    await page.getByTestId('provider-badge').waitFor({ timeout: 60_000 })
    await page.getByTestId('project-row').first().waitFor()
    expect(await page.getByTestId('current-project').textContent()).toBe('Demo: 100 Swiss-Prot proteins (demo)')
    // The API went through the preload's invoke on the API channel; nothing asked for file:///…/api/.
    expect(preload.invokes.length).toBeGreaterThan(0)
    expect(preload.invokes.every(c => c.channel === IPC_INVOKE_CHANNEL)).toBe(true)
    expect(preload.invokes.map(c => c.args[0])).toEqual(expect.arrayContaining(['appInfo', 'listProjects', 'listJobs']))
    expect(fileRequests.filter(u => u.includes('/api/'))).toEqual([])
    expect(fileRequests.some(u => /\/assets\/index-[\w-]+\.js$/.test(u))).toBe(true)
    await page.screenshot({ path: `${SCREENSHOTS}/desktop-models.png` })
  })

  it('shows the first-start index job’s progress (job events over IPC) and cancels it from the page', async () => {
    const job = page.locator('[data-testid="job"][data-job-kind="index"]')
    await job.waitFor({ timeout: 60_000 })
    await page.waitForFunction(
      () =>
        Number(
          document
            .querySelector('[data-testid="job"][data-job-kind="index"] [data-testid="job-progress"]')
            ?.getAttribute('aria-valuenow') ?? 0
        ) > 0,
      undefined,
      { timeout: 180_000, polling: 200 }
    )
    await job.getByTestId('job-cancel').click()
    await page
      .locator('[data-testid="job"][data-job-kind="index"][data-job-state="cancelled"]')
      .waitFor({ timeout: 30_000 })
    const jobs = (await electron.invoke(page.url(), IPC_INVOKE_CHANNEL, 'listJobs', {})) as JobInfo[]
    expect(jobs.find(j => j.kind === 'index')?.state).toBe('cancelled')
  }, 240_000)

  it('opens every view', async () => {
    for (const view of ['features', 'feature-detail', 'protein', 'structure', 'steering', 'models']) {
      await page.getByTestId(`nav-${view}`).click()
      await page.locator(`[data-testid="view-${view}"]`).waitFor()
      expect(page.url()).toBe(`${pathToFileURL(win.loadedFile!).href}#/${view}`)
      await page.waitForTimeout(500)
      expect(await page.getByText('This view failed').count(), `${view} failed to render`).toBe(0)
      await page.screenshot({ path: `${SCREENSHOTS}/desktop-view-${view}.png` })
    }
  })

  it('reported no CSP violation, failed load or page error', async () => {
    expect(await page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations)).toEqual([])
    expect(problems).toEqual([])
    // The policies really apply: an inline script is refused (and reported).
    const inlineRan = await page.evaluate(async () => {
      const s = document.createElement('script')
      s.textContent = 'window.__inlineRan = true'
      document.body.appendChild(s)
      await new Promise(r => setTimeout(r, 100))
      return (window as unknown as { __inlineRan?: boolean }).__inlineRan === true
    })
    expect(inlineRan).toBe(false)
    // Reported once per policy in force: the header the main process's hook set, and the page's <meta>.
    expect(await page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations)).toEqual([
      'script-src-elem inline',
      'script-src-elem inline'
    ])
  })
})
