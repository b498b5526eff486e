/**
 * The desktop app's build (`electron-vite build` → out/main, out/preload, out/renderer), shared by the tests of
 * the desktop shell: built once per change of the sources (a hash of src/, the electron-vite config and
 * package.json is kept in test-results/desktop-build.hash), so several test files cost one build.
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO = dirname(dirname(dirname(fileURLToPath(import.meta.url))))
const OUT = join(REPO, 'out')
// Kept outside out/ so that it never travels into a package (electron-builder packs out/**).
const MARKER = join(REPO, 'test-results', 'desktop-build.hash')

export interface DesktopBuild {
  out: string
  /** out/main/index.js: the Electron main process (package.json "main"). */
  main: string
  /** out/main/workbench-worker.js: the job worker. */
  worker: string
  /** out/preload/index.js: the sandboxed preload bridge. */
  preload: string
  /** out/renderer/index.html: the page the window loads. */
  renderer: string
}

function filesUnder(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...filesUnder(p))
    else out.push(p)
  }
  return out.sort()
}

function sourceHash(): string {
  const h = createHash('sha256')
  for (const root of [join(REPO, 'src'), join(REPO, 'electron.vite.config.ts'), join(REPO, 'package.json')]) {
    for (const f of statSync(root).isDirectory() ? filesUnder(root) : [root]) {
      h.update(relative(REPO, f))
      h.update(readFileSync(f))
    }
  }
  return h.digest('hex').slice(0, 16)
}

function paths(): DesktopBuild {
  return {
    out: OUT,
    main: join(OUT, 'main', 'index.js'),
    worker: join(OUT, 'main', 'workbench-worker.js'),
    preload: join(OUT, 'preload', 'index.js'),
    renderer: join(OUT, 'renderer', 'index.html')
  }
}

/** Runs `electron-vite build` unless out/ already holds the build of these sources. */
export function buildDesktop(): DesktopBuild {
  const key = sourceHash()
  const p = paths()
  const built = [p.main, p.worker, p.preload, p.renderer].every(f => existsSync(f))
  if (built && existsSync(MARKER) && readFileSync(MARKER, 'utf8') === key) return p
  execFileSync(process.execPath, [join(REPO, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], {
    cwd: REPO,
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 300_000
  })
  mkdirSync(dirname(MARKER), { recursive: true })
  writeFileSync(MARKER, key)
  return p
}

/** Records that out/ now holds a build of the current sources (after `npm run dist:dir` built it). */
export function markDesktopBuilt(): void {
  mkdirSync(dirname(MARKER), { recursive: true })
  writeFileSync(MARKER, sourceHash())
}
