/**
 * The one lookup for the files shipped with the app in `resources/` (the demo project, the ESM vocabulary).
 *
 * - Packaged app (electron-builder `extraResources`): `<process.resourcesPath>/resources`, e.g.
 *   `/opt/PLM-SAE Workbench/resources/resources` for the .deb, `<mount>/resources/resources` in the AppImage.
 * - Development (`electron-vite dev|preview`, code in `<repo>/out/main`), the CLI built to `<pkg>/dist/cli.mjs`,
 *   tests and scripts run from `<repo>/src/...`: the `resources/` folder next to the nearest `package.json`
 *   above the running code.
 * - `PLM_SAE_RESOURCES` overrides both (tests, unusual installs).
 *
 * No Electron import: the Electron main process passes `app.isPackaged` and `process.resourcesPath`.
 */
import { existsSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

/** The folder name inside the package's resources path (electron-builder.yml `extraResources.to`). */
export const RESOURCES_FOLDER = 'resources'

export interface ResourcesLookup {
  /** Electron's `app.isPackaged`; false for the CLI, tests and `electron-vite dev`. */
  isPackaged: boolean
  /** Electron's `process.resourcesPath`; required when packaged, ignored otherwise. */
  resourcesPath?: string
  /** The folder of the running code (`__dirname` / `dirname(fileURLToPath(import.meta.url))`). */
  fromDir: string
  env?: NodeJS.ProcessEnv
}

export function resourcesDir(lookup: ResourcesLookup): string {
  const env = lookup.env ?? process.env
  if (env.PLM_SAE_RESOURCES) return requireDir(resolve(env.PLM_SAE_RESOURCES), 'PLM_SAE_RESOURCES')
  if (lookup.isPackaged) {
    if (!lookup.resourcesPath) throw new Error('resourcesDir: the packaged app must pass process.resourcesPath')
    return requireDir(
      join(lookup.resourcesPath, RESOURCES_FOLDER),
      'the packaged app (reinstall it: its resources are incomplete)'
    )
  }
  const searched: string[] = []
  for (let dir = resolve(lookup.fromDir); ; dir = dirname(dir)) {
    const candidate = join(dir, RESOURCES_FOLDER)
    searched.push(candidate)
    if (existsSync(join(dir, 'package.json')) && isDir(candidate)) return candidate
    if (dirname(dir) === dir) break
  }
  throw new Error(
    `Bundled resources not found: no ${RESOURCES_FOLDER}/ folder next to a package.json above ${lookup.fromDir} ` +
      `(looked at ${searched.join(', ')}). Run from the repository (or the installed npm package), or set PLM_SAE_RESOURCES.`
  )
}

/** A file or folder inside the bundled resources, e.g. `resourcePath(lookup, 'demo', 'proteins.tsv')`. */
export function resourcePath(lookup: ResourcesLookup, ...segments: string[]): string {
  const base = resourcesDir(lookup)
  const p = join(base, ...segments)
  if (!existsSync(p))
    throw new Error(
      `Bundled resource missing: ${p} (resources folder: ${base}). Reinstall the app or restore it from the repository.`
    )
  return p
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory()
  } catch {
    return false
  }
}

function requireDir(p: string, origin: string): string {
  if (!isDir(p)) throw new Error(`Bundled resources folder ${p} does not exist (from ${origin}).`)
  return p
}
