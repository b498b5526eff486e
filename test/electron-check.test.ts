/** `npm start` on a machine without Electron's binary: what to do, not a stack trace (scripts/electron-check.mjs). */
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = join(__dirname, '..')
const pathFile = join(ROOT, 'node_modules', 'electron', 'path.txt')
const installed =
  existsSync(pathFile) &&
  existsSync(join(ROOT, 'node_modules', 'electron', 'dist', readFileSync(pathFile, 'utf8').trim()))

describe('npm start without the Electron binary', () => {
  it.skipIf(installed)('says what to do (download, or plm-sae serve) and exits 1 without a stack trace', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'electron-check.mjs')], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, PLM_SAE_ELECTRON_NO_DOWNLOAD: '1' }
    })
    expect(r.status).toBe(1)
    expect(r.stderr).toContain("npm start needs Electron's binary, and it is not there (the download was skipped)")
    expect(r.stderr).toContain('npx plm-sae serve')
    expect(r.stderr).not.toMatch(/^\s+at /m)
  })

  it('is what npm start runs before electron-vite', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    expect(pkg.scripts.start).toBe('node scripts/electron-check.mjs && electron-vite preview')
  })
})
