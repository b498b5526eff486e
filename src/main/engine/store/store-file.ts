/**
 * A store file from elsewhere (a merged cluster index copied to this machine, or any project store): checked
 * before the app adopts it, and copied consistently (SQLite's online backup, so a store with a pending WAL is
 * copied whole and the original is never written).
 */
import Database from 'better-sqlite3'
import { existsSync, statSync } from 'node:fs'
import type { RunInfo } from '../../../shared/store-types'
import { LatentStore } from './latent-store'
import { SCHEMA_VERSION } from './schema'

export interface StoreFileSummary {
  proteins: number
  residues: number
  /** Complete runs with up-to-date statistics (what the app can browse). */
  runs: RunInfo[]
}

/** Checks that `path` is a browsable PLM-SAE store: not a shard, with a complete indexed run. */
export function describeStoreFile(path: string): StoreFileSummary {
  if (!existsSync(path) || !statSync(path).isFile()) throw new Error(`${path}: no such file`)
  let store: LatentStore
  try {
    store = LatentStore.open(path, { readonly: true })
  } catch (e) {
    throw new Error(`${path}: not a PLM-SAE store (${(e as Error).message})`, { cause: e })
  }
  try {
    let info
    try {
      info = store.info()
    } catch (e) {
      throw new Error(`${path}: not a PLM-SAE store (${(e as Error).message})`, { cause: e })
    }
    if (info.schemaVersion > SCHEMA_VERSION) {
      throw new Error(
        `${path}: written by a newer PLM-SAE Workbench (schema ${info.schemaVersion}; this one reads up to ${SCHEMA_VERSION}); update the app`
      )
    }
    const shard = info.runs.find(r => typeof r.settings.shard === 'string')
    if (shard) {
      throw new Error(
        `${path}: this is shard ${String(shard.settings.shard)} of a sharded index; merge all shards first (plm-sae merge --db project.sqlite shard-*.sqlite) and open the merged store`
      )
    }
    const runs = info.runs.filter(r => r.status === 'complete' && r.statsUpToDate)
    if (runs.length === 0) {
      throw new Error(
        `${path}: the store has no complete index with statistics (runs: ${info.runs.map(r => `${r.id} ${r.status}`).join(', ') || 'none'}); finish its index first`
      )
    }
    return { proteins: info.proteins, residues: info.residues, runs }
  } finally {
    store.close()
  }
}

/** Copies the store at `from` to `to` (a new file) with SQLite's online backup. */
export async function copyStoreFile(from: string, to: string): Promise<void> {
  if (existsSync(to)) throw new Error(`${to}: already exists`)
  const src = new Database(from, { readonly: true, fileMustExist: true })
  try {
    await src.backup(to)
  } finally {
    src.close()
  }
}
