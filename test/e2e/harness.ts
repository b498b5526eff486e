/**
 * Reusable harness for the end-to-end tests: builds the renderer once (cached by a hash of its sources),
 * starts the real workbench service + `plm-sae serve`'s HTTP server in-process on 127.0.0.1 (random port) with
 * a fresh data folder, and drives Debian's Chromium with playwright-core. The first start of the service creates
 * the demo project (resources/demo) with the demo models and indexes it (a real store, real ONNX runs).
 *
 *   const e2e = await startE2e()                 // fresh data folder: the demo index job runs (about a minute)
 *   const e2e = await startE2e({ indexed: true }) // reuse this run's indexed demo data when there is one
 *   const page = await e2e.newPage()
 *   await e2e.waitForIndexed()
 *   await e2e.screenshot(page, 'features')      // → test-results/screenshots/features.png
 *   await e2e.close()
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import type { JobInfo } from '../../src/shared/api'
import { generateToken, startHttpServer, type RunningHttpServer } from '../../src/main/workbench/http-server'
import { openWorkbench, type WorkbenchService } from '../../src/main/workbench/service'

export const REPO = join(__dirname, '..', '..')
export const RESULTS = join(REPO, 'test-results')
export const SCREENSHOTS = join(RESULTS, 'screenshots')
const RENDERER_OUT = join(RESULTS, 'e2e-renderer')
const INDEXED_CACHE = join(RESULTS, 'e2e-indexed-data')
export const CHROMIUM = '/usr/bin/chromium'
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync'
]

function filesUnder(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...filesUnder(p))
    else out.push(p)
  }
  return out.sort()
}

function hashOf(paths: string[]): string {
  const h = createHash('sha256')
  for (const root of paths) {
    for (const f of existsSync(root) ? (statSync(root).isDirectory() ? filesUnder(root) : [root]) : []) {
      h.update(relative(REPO, f))
      h.update(readFileSync(f))
    }
  }
  return h.digest('hex').slice(0, 16)
}

/**
 * Builds the renderer (scripts/build-web.mjs) into test-results/e2e-renderer, unless a build of the same
 * sources is already there: once per test run however many e2e files use it.
 */
export function buildRenderer(): string {
  const key = hashOf([
    join(REPO, 'src', 'renderer'),
    join(REPO, 'src', 'shared'),
    join(REPO, 'scripts', 'build-web.mjs')
  ])
  const marker = join(RENDERER_OUT, '.source-hash')
  if (existsSync(marker) && readFileSync(marker, 'utf8') === key && existsSync(join(RENDERER_OUT, 'index.html')))
    return RENDERER_OUT
  execFileSync(process.execPath, [join(REPO, 'scripts', 'build-web.mjs'), RENDERER_OUT], {
    cwd: REPO,
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 180_000
  })
  writeFileSync(marker, key)
  return RENDERER_OUT
}

/** The key of an indexed demo data folder: changes with the engine, the workbench and the demo data. */
function indexedKey(): string {
  return hashOf([
    join(REPO, 'src', 'main', 'engine'),
    join(REPO, 'src', 'main', 'workbench'),
    join(REPO, 'resources', 'demo'),
    join(REPO, 'src', 'shared', 'store-types.ts')
  ])
}

export interface E2eOptions {
  /** Start from this run's indexed demo data when a test before saved it (see `saveIndexed`). */
  indexed?: boolean
  /** Create and index the demo project on this first start (default true, as the app does). */
  firstRunDemo?: boolean
}

export interface E2e {
  service: WorkbenchService
  server: RunningHttpServer
  browser: Browser
  baseUrl: string
  dataDir: string
  /** Console errors and page errors seen by every page (tests assert none). */
  pageErrors: string[]
  newPage(): Promise<Page>
  /**
   * Waits until the demo project's index job is done (throws when it failed; returns undefined when the data
   * came indexed from the cache). The indexed data folder is then kept for the next e2e files of this run.
   */
  waitForIndexed(timeoutMs?: number): Promise<JobInfo | undefined>
  /** Keeps this data folder (indexed) for the next e2e files (`startE2e({ indexed: true })`). */
  saveIndexed(): void
  screenshot(page: Page, name: string): Promise<string>
  close(): Promise<void>
}

export async function startE2e(opts: E2eOptions = {}): Promise<E2e> {
  const staticDir = buildRenderer()
  mkdirSync(SCREENSHOTS, { recursive: true })
  const dataDir = join(tmpdir(), `plm-sae-e2e-${process.pid}-${Date.now()}`)
  const key = indexedKey()
  const cacheMarker = join(INDEXED_CACHE, '.key')
  const fromCache = opts.indexed === true && existsSync(cacheMarker) && readFileSync(cacheMarker, 'utf8') === key
  if (fromCache) cpSync(join(INDEXED_CACHE, 'data'), dataDir, { recursive: true })
  mkdirSync(dataDir, { recursive: true })
  const service = await openWorkbench({
    mode: 'browser',
    dataDir,
    resourcesDir: join(REPO, 'resources'),
    runtime: { device: 'cpu', deviceId: 0, threads: 0 },
    firstRunDemo: opts.firstRunDemo ?? true
  })
  // With an access token, as `plm-sae serve` starts by default: `server.url` carries it (…/?token=…), the first
  // page load trades it for the HttpOnly cookie, and every later request of that page sends the cookie.
  const server = await startHttpServer({
    api: service,
    uploads: service.uploads,
    staticDir,
    port: 0,
    token: generateToken()
  })
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  const pageErrors: string[] = []
  const e2e: E2e = {
    service,
    server,
    browser,
    baseUrl: server.url,
    dataDir,
    pageErrors,
    async newPage() {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
      page.on('pageerror', e => pageErrors.push(`pageerror: ${e.message}`))
      page.on('response', r => {
        if (r.status() >= 400) pageErrors.push(`HTTP ${r.status()} ${r.request().method()} ${r.url()}`)
      })
      page.on('console', m => {
        if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`)
      })
      return page
    },
    async waitForIndexed(timeoutMs = 240_000) {
      const index = service.jobs.list().find(j => j.kind === 'index')
      if (!index) return undefined
      const done = await Promise.race([
        service.jobs.waitFor(index.id),
        new Promise<never>((_, reject) =>
          setTimeout(
            () => reject(new Error(`the index job did not finish within ${timeoutMs / 1000} s`)),
            timeoutMs
          ).unref()
        )
      ])
      if (done.state !== 'done') throw new Error(`the demo index job ended ${done.state}: ${done.error ?? ''}`)
      if (!fromCache) e2e.saveIndexed()
      return done
    },
    saveIndexed() {
      rmSync(INDEXED_CACHE, { recursive: true, force: true })
      mkdirSync(INDEXED_CACHE, { recursive: true })
      cpSync(dataDir, join(INDEXED_CACHE, 'data'), { recursive: true })
      writeFileSync(cacheMarker, key)
    },
    async screenshot(page, name) {
      const file = join(SCREENSHOTS, `${name}.png`)
      await page.screenshot({ path: file, fullPage: false })
      return file
    },
    async close() {
      await browser.close().catch(() => undefined)
      await server.close()
      await service.close()
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
  return e2e
}
