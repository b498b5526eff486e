/**
 * Where the app keeps its data (imported models, downloads, projects, settings), following each platform's
 * convention. `PLM_SAE_HOME` overrides it (tests, portable installs). The Electron shell and the CLI use
 * this same function, so both see the same model cache.
 */
import { homedir } from 'node:os'
import { join } from 'node:path'

export const APP_FOLDER_NAME = 'plm-sae-workbench'

export function appDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.PLM_SAE_HOME) return env.PLM_SAE_HOME
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'PLM-SAE Workbench')
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'PLM-SAE Workbench')
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), APP_FOLDER_NAME)
}

/** Imported models (ONNX graphs and converted weights), keyed by checkpoint content hash. */
export function modelCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return join(appDataDir(env), 'models')
}
