/**
 * Smoke test of the real desktop app with Playwright's `_electron`: builds it (electron-vite), starts Electron
 * on out/main/index.js with a fresh data folder, and checks the window: the preload bridge exposes the API and
 * nothing of Node, the shell renders with the execution provider. The binary: $PLM_SAE_ELECTRON (a path to an
 * Electron executable), else the one electron's postinstall downloaded into node_modules. Skipped, with the
 * reason, where there is none (it cannot be downloaded on the test machines) or there is no display; the
 * shell is then covered without the binary by test/desktop-main, test/desktop-preload and
 * test/e2e/desktop-renderer.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { _electron } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { buildDesktop } from '../helpers/desktop-build'
import { REPO, SCREENSHOTS } from './harness'

/** The Electron binary, found without require('electron') (which would try to download it). */
function electronBinary(): { path?: string; reason?: string } {
  const given = process.env.PLM_SAE_ELECTRON
  if (given) {
    // Asked for explicitly: a wrong path is an error, not a reason to skip.
    if (!existsSync(given))
      throw new Error(`PLM_SAE_ELECTRON=${given} does not exist: give the path of an Electron executable`)
    return displayOr(given)
  }
  const pkg = join(REPO, 'node_modules', 'electron')
  const pathFile = join(pkg, 'path.txt')
  if (!existsSync(pathFile)) {
    return {
      reason: `the Electron binary is not installed (${pathFile} is missing: electron's postinstall download could not run on this machine; PLM_SAE_ELECTRON=<path to electron> names one)`
    }
  }
  const bin = join(process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(pkg, 'dist'), readFileSync(pathFile, 'utf8').trim())
  if (!existsSync(bin)) return { reason: `the Electron binary ${bin} is missing` }
  return displayOr(bin)
}

function displayOr(bin: string): { path?: string; reason?: string } {
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY)
    return { reason: 'no display (set DISPLAY, e.g. run under xvfb-run)' }
  return { path: bin }
}

describe('desktop app (Electron)', () => {
  it('starts, exposes exactly the workbench API to a sandboxed page, and shows the shell', async ctx => {
    const electron = electronBinary()
    if (!electron.path) {
      console.warn(`Electron smoke test skipped: ${electron.reason}.`)
      ctx.skip(`Electron smoke test skipped: ${electron.reason}`)
      return
    }
    const build = buildDesktop()
    const home = mkdtempSync(join(tmpdir(), 'plm-sae-electron-'))
    const app = await _electron.launch({
      executablePath: electron.path,
      args: [build.main],
      env: { ...process.env, PLM_SAE_HOME: home } as Record<string, string>
    })
    try {
      const win = await app.firstWindow()
      await win.getByTestId('provider-badge').waitFor({ timeout: 60_000 })
      const exposed = await win.evaluate(() => ({
        api: typeof (window as unknown as { workbench?: Record<string, unknown> }).workbench?.listFeatures,
        events: typeof (window as unknown as { workbench?: Record<string, unknown> }).workbench?.onJobEvent,
        node: typeof (window as unknown as { process?: unknown; require?: unknown }).require
      }))
      expect(exposed).toEqual({ api: 'function', events: 'function', node: 'undefined' })
      // Sandboxed, isolated, no Node: the page sees neither process nor require, and the bridge object is not writable.
      const isolation = await win.evaluate(() => {
        const w = window as unknown as { workbench: Record<string, unknown>; process?: unknown }
        w.workbench.listFeatures = () => 'replaced'
        return { process: typeof w.process, replaced: typeof w.workbench.listFeatures === 'string' }
      })
      expect(isolation).toEqual({ process: 'undefined', replaced: false })
      await win.screenshot({ path: join(SCREENSHOTS, 'electron-window.png') })
    } finally {
      await app.close()
      rmSync(home, { recursive: true, force: true })
    }
  }, 300_000)
})
