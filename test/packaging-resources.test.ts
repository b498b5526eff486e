/**
 * The bundled-resources lookup in its three modes (development, packaged app, CLI built to dist/), on real
 * folder layouts in a temporary directory, and the app data folder's per-platform convention: outside the
 * install location, so that upgrades (a new AppImage, `apt upgrade`, a new NSIS installer) keep models and projects.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { mkdirSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tempDir } from './helpers/tmp'
import { resourcePath, resourcesDir } from '../src/main/engine/fs/resources-path'
import { appDataDir, modelCacheRoot } from '../src/main/engine/fs/app-paths'

const repo = dirname(dirname(fileURLToPath(import.meta.url)))

function touch(path: string, text = 'x'): void {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, text)
}

describe('resourcesDir', () => {
  const tmp = tempDir('resources')
  afterAll(() => tmp.cleanup())

  // A source checkout / npm package: <pkg>/package.json, <pkg>/resources, <pkg>/out/main (electron-vite), <pkg>/dist (CLI).
  const pkg = join(tmp.dir, 'checkout')
  touch(join(pkg, 'package.json'), '{}')
  touch(join(pkg, 'resources', 'esm', 'vocab.txt'))
  touch(join(pkg, 'out', 'main', 'index.js'))
  touch(join(pkg, 'dist', 'cli.mjs'))
  // An installed package: <install>/resources/app.asar (a file), <install>/resources/resources.
  const install = join(tmp.dir, 'opt', 'PLM-SAE Workbench')
  touch(join(install, 'resources', 'app.asar'))
  touch(join(install, 'resources', 'resources', 'demo', 'manifest.json'), '{}')

  it('development (electron-vite, code in out/main): <repo>/resources', () => {
    expect(resourcesDir({ isPackaged: false, fromDir: join(pkg, 'out', 'main'), env: {} })).toBe(join(pkg, 'resources'))
  })

  it('CLI built to dist/: <pkg>/resources', () => {
    expect(resourcesDir({ isPackaged: false, fromDir: join(pkg, 'dist'), env: {} })).toBe(join(pkg, 'resources'))
  })

  it('this repository, from its sources: resources/ with the ESM vocabulary', () => {
    const dir = resourcesDir({ isPackaged: false, fromDir: join(repo, 'src', 'main'), env: {} })
    expect(dir).toBe(join(repo, 'resources'))
    expect(resourcePath({ isPackaged: false, fromDir: join(repo, 'src', 'main'), env: {} }, 'esm', 'vocab.txt')).toBe(
      join(repo, 'resources', 'esm', 'vocab.txt')
    )
  })

  it('packaged: process.resourcesPath/resources, whatever the code location', () => {
    const lookup = {
      isPackaged: true,
      resourcesPath: join(install, 'resources'),
      fromDir: join(install, 'resources', 'app.asar', 'out', 'main'),
      env: {}
    }
    expect(resourcesDir(lookup)).toBe(join(install, 'resources', 'resources'))
    expect(resourcePath(lookup, 'demo', 'manifest.json')).toBe(
      join(install, 'resources', 'resources', 'demo', 'manifest.json')
    )
  })

  it('PLM_SAE_RESOURCES overrides both', () => {
    const env = { PLM_SAE_RESOURCES: join(pkg, 'resources') }
    expect(resourcesDir({ isPackaged: true, resourcesPath: join(install, 'resources'), fromDir: '/', env })).toBe(
      join(pkg, 'resources')
    )
  })

  it('says where it looked when the resources are missing', () => {
    const lonely = join(tmp.dir, 'lonely', 'out', 'main')
    mkdirSync(lonely, { recursive: true })
    expect(() => resourcesDir({ isPackaged: false, fromDir: lonely, env: {} })).toThrow(
      /no resources\/ folder next to a package\.json above .*lonely/
    )
    expect(() =>
      resourcesDir({ isPackaged: true, resourcesPath: join(tmp.dir, 'lonely'), fromDir: lonely, env: {} })
    ).toThrow(/resources.*does not exist.*reinstall/)
    expect(() => resourcesDir({ isPackaged: true, fromDir: lonely, env: {} })).toThrow(/process\.resourcesPath/)
    expect(() =>
      resourcePath({ isPackaged: false, fromDir: join(pkg, 'dist'), env: {} }, 'demo', 'missing.json')
    ).toThrow(/Bundled resource missing: .*missing\.json/)
  })
})

describe('the app data folder (src/main/engine/app-paths.ts)', () => {
  it("follows each platform's convention (Electron's appData folder on Windows and macOS, XDG data on Linux)", () => {
    expect(appDataDir({ APPDATA: 'C:\\Users\\ada\\AppData\\Roaming' }, 'win32')).toBe(
      join('C:\\Users\\ada\\AppData\\Roaming', 'PLM-SAE Workbench')
    )
    expect(appDataDir({}, 'darwin')).toBe(join(homedir(), 'Library', 'Application Support', 'PLM-SAE Workbench'))
    expect(appDataDir({}, 'linux')).toBe(join(homedir(), '.local', 'share', 'plm-sae-workbench'))
    expect(appDataDir({ XDG_DATA_HOME: '/data/ada' }, 'linux')).toBe(join('/data/ada', 'plm-sae-workbench'))
    expect(appDataDir({ PLM_SAE_HOME: '/scratch/plm' }, 'linux')).toBe('/scratch/plm')
    expect(modelCacheRoot({ PLM_SAE_HOME: '/scratch/plm' })).toBe(join('/scratch/plm', 'models'))
  })

  it('is never inside an install location, so upgrades and reinstalls keep it', () => {
    const installs = [
      '/opt/PLM-SAE Workbench',
      '/tmp/.mount_PLM-SAE',
      '/Applications/PLM-SAE Workbench.app',
      'C:\\Program Files\\PLM-SAE Workbench'
    ]
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      const dir = appDataDir({ APPDATA: 'C:\\Users\\ada\\AppData\\Roaming' }, platform)
      for (const i of installs) expect(dir.startsWith(i)).toBe(false)
    }
  })
})
