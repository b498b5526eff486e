/**
 * One writer per store: an index job holds `<store>.lock` (JSON: holder pid, host, command, start time) while
 * it writes, so a second indexer on the same store stops at once with a message naming the holder instead of
 * redoing the work or failing later with "database is locked". A lock left by a process that no longer runs
 * (kill -9, power loss) is taken over.
 *
 * Taking, taking over and releasing the lock happen inside an IMMEDIATE transaction on the store itself, so
 * SQLite's own write lock serialises them between processes: two indexers that find the same stale lock
 * cannot both take it. Short writes that are not indexing (labels, notes) do not take this lock; they wait
 * for the indexer's transactions through the busy timeout (latent-store.ts).
 */
import { randomUUID } from 'node:crypto'
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { basename } from 'node:path'
import type { LatentStore } from './latent-store'

export interface WriterLockHolder {
  pid: number
  host: string
  /** What holds it, e.g. "plm-sae index --input a.fasta --db p.sqlite" or "PLM-SAE Workbench: index job". */
  command: string
  /** ISO 8601. */
  since: string
  /** Random id of this holder (so a release never removes another holder's lock). */
  owner: string
}

export interface WriterLock {
  readonly path: string
  readonly holder: WriterLockHolder
  /** Removes the lock (when it is still ours). Safe to call twice, and when the store is gone. */
  release(): void
}

export class StoreBusyError extends Error {
  constructor(
    message: string,
    readonly holder: WriterLockHolder
  ) {
    super(message)
    this.name = 'StoreBusyError'
  }
}

export function writerLockPath(storePath: string): string {
  return `${storePath}.lock`
}

/** The command line of this process, short (for the lock's `command`). */
export function thisCommand(): string {
  const [, script, ...args] = process.argv
  const text = [script ? basename(script).replace(/\.(?:m?js|ts)$/, '') : 'node', ...args].join(' ')
  return text.length > 300 ? `${text.slice(0, 297)}...` : text
}

/** True when a process with this pid runs (on this host). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function readHolder(path: string): WriterLockHolder | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
  try {
    const h = JSON.parse(text) as Partial<WriterLockHolder>
    if (typeof h.pid === 'number' && typeof h.owner === 'string') {
      return {
        pid: h.pid,
        host: String(h.host ?? ''),
        command: String(h.command ?? ''),
        since: String(h.since ?? ''),
        owner: h.owner
      }
    }
  } catch {
    /* a torn or foreign file: treated as stale */
  }
  return undefined
}

function held(h: WriterLockHolder): boolean {
  // A holder on another host (a store on a shared file system) cannot be checked: it is taken as alive.
  return h.host !== hostname() || processAlive(h.pid)
}

/**
 * Takes the store's writer lock for `command`, or throws a `StoreBusyError` naming the live holder. A lock
 * of a process that is gone is taken over (`tookOver` says whose).
 */
export function acquireWriterLock(
  store: LatentStore,
  command = thisCommand()
): WriterLock & { tookOver?: WriterLockHolder } {
  const path = writerLockPath(store.path)
  const holder: WriterLockHolder = {
    pid: process.pid,
    host: hostname(),
    command,
    since: new Date().toISOString(),
    owner: randomUUID()
  }
  let tookOver: WriterLockHolder | undefined
  store.db
    .transaction(() => {
      const current = readHolder(path)
      if (current && held(current)) {
        throw new StoreBusyError(
          `${basename(store.path)} is being indexed by pid ${current.pid}${current.host !== holder.host ? ` on ${current.host}` : ''} ` +
            `(${current.command}) since ${current.since}; wait for it to finish or cancel it ` +
            `(if that process is gone for good, delete ${path})`,
          current
        )
      }
      tookOver = current
      const tmp = `${path}.${holder.owner}.tmp`
      writeFileSync(tmp, `${JSON.stringify(holder)}\n`)
      renameSync(tmp, path)
    })
    .immediate()
  let released = false
  return {
    path,
    holder,
    tookOver,
    release(): void {
      if (released) return
      released = true
      const remove = (): void => {
        if (readHolder(path)?.owner !== holder.owner) return
        try {
          unlinkSync(path)
        } catch {
          /* already gone (e.g. the project folder was deleted) */
        }
      }
      try {
        if (store.db.open) store.db.transaction(remove).immediate()
        else remove()
      } catch {
        remove()
      }
    }
  }
}
