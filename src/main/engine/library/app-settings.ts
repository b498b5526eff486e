/**
 * Settings remembered between runs (last project, last model and SAE), in `settings.json` in the app data
 * folder. Unknown keys and values of the wrong type are dropped on load, so a hand-edited or older file never
 * breaks the start; writes are atomic (temporary file + rename).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { appDataDir } from '../fs/app-paths'
import { writeFileAtomic } from '../fs/files'
import { DEVICE_SETTINGS, type AppSettings } from '../../../shared/library-types'

const TYPES: Record<keyof AppSettings, 'string' | 'boolean'> = {
  lastProject: 'string',
  lastModelId: 'string',
  lastSaeId: 'string',
  demoIndexed: 'boolean',
  device: 'string'
}

export function sanitizeSettings(raw: unknown): AppSettings {
  const out: AppSettings = {}
  if (typeof raw !== 'object' || raw === null) return out
  for (const [key, type] of Object.entries(TYPES) as [keyof AppSettings, string][]) {
    const v = (raw as Record<string, unknown>)[key]
    if (typeof v === type) (out as Record<string, unknown>)[key] = v
  }
  if (out.device !== undefined && !DEVICE_SETTINGS.includes(out.device)) delete out.device
  return out
}

export class SettingsStore {
  readonly path: string

  constructor(dataDir: string = appDataDir()) {
    this.path = join(dataDir, 'settings.json')
  }

  load(): AppSettings {
    try {
      return sanitizeSettings(JSON.parse(readFileSync(this.path, 'utf8')))
    } catch {
      return {}
    }
  }

  /** Merges a patch (undefined values remove a key) and saves; returns the new settings. */
  update(patch: Partial<AppSettings>): AppSettings {
    const next: Record<string, unknown> = { ...this.load() }
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) delete next[k]
      else next[k] = v
    }
    const clean = sanitizeSettings(next)
    writeFileAtomic(this.path, `${JSON.stringify(clean, null, 2)}\n`)
    return clean
  }
}
