/**
 * Jobs of the workbench (indexing, downloads): each has a `JobInfo` that changes over time and is pushed to
 * every listener. CPU-heavy jobs run in a worker thread (one per job, worker.ts) so the process that serves
 * the UI never blocks; I/O-bound jobs (downloads) run as async functions in the service's thread. Both
 * report progress the same way and can be cancelled.
 */
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { MAX_JOB_BAD_RECORDS, type JobEvent, type JobInfo, type JobKind, type JobProgress } from '../../shared/api'
import { NotFoundError } from './errors'
import type { MainToWorker, WorkerTask, WorkerToMain } from './worker-protocol'

/** Progress events are forwarded at most this often per job (the final state always is). */
const PROGRESS_INTERVAL_MS = 150
/** After a cancel request, a worker that has not stopped by itself within this time is terminated. */
const CANCEL_GRACE_MS = 10_000

export interface JobSpec {
  kind: JobKind
  title: string
  projectId?: string
  entryId?: string
  /** Called once with the job's result when it ends well (before listeners hear 'done'). */
  onDone?: (result: unknown) => void | Promise<void>
}

export interface InlineJobContext {
  signal: AbortSignal
  progress(p: JobProgress, extra?: Partial<Pick<JobInfo, 'download'>>): void
}

interface Running {
  info: JobInfo
  cancel(): void
  lastEmit: number
  pendingEmit?: ReturnType<typeof setTimeout>
}

/**
 * Where the worker's code is: next to this module when running from sources (tests, tsx: loaded through
 * tsx), or the bundled `workbench-worker.{mjs,js}` next to the bundle (the CLI in dist/, Electron's out/main).
 */
export function defaultWorkerEntry(): { file: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url)
  const dir = dirname(here)
  if (here.endsWith('.ts')) return { file: join(dir, 'worker.ts'), execArgv: ['--import', 'tsx'] }
  for (const name of ['workbench-worker.mjs', 'workbench-worker.js']) {
    if (existsSync(join(dir, name))) return { file: join(dir, name), execArgv: [] }
  }
  throw new Error(
    `The job worker (workbench-worker.mjs) is missing next to ${here}: rebuild the app (npm run build:cli / electron-vite build).`
  )
}

export class JobManager {
  private readonly jobs = new Map<string, Running>()
  private readonly listeners = new Set<(e: JobEvent) => void>()

  constructor(private readonly workerEntry: () => { file: string; execArgv: string[] } = defaultWorkerEntry) {}

  onEvent(listener: (e: JobEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  list(): JobInfo[] {
    return [...this.jobs.values()].map(r => r.info).sort((a, b) => b.startedAt.localeCompare(a.startedAt))
  }

  get(id: string): JobInfo | undefined {
    return this.jobs.get(id)?.info
  }

  /** The running (or queued) job of a project or library entry, if any. */
  active(match: (j: JobInfo) => boolean): JobInfo | undefined {
    return this.list().find(j => (j.state === 'running' || j.state === 'queued') && match(j))
  }

  cancel(id: string): JobInfo {
    const job = this.jobs.get(id)
    if (!job) throw new NotFoundError(`There is no job "${id}" (it may belong to an earlier session of the app).`)
    if (job.info.state === 'running' || job.info.state === 'queued') job.cancel()
    return job.info
  }

  /** Runs a task in a new worker thread. */
  startWorker(spec: JobSpec, task: WorkerTask, initial: JobProgress): JobInfo {
    const running = this.create(spec, initial)
    const entry = this.workerEntry()
    const worker = new Worker(entry.file, { workerData: task, execArgv: entry.execArgv, stdout: false, stderr: false })
    let settled = false
    let killTimer: ReturnType<typeof setTimeout> | undefined
    running.cancel = () => {
      if (settled) return
      worker.postMessage({ type: 'cancel' } satisfies MainToWorker)
      killTimer ??= setTimeout(() => {
        if (!settled) {
          settled = true
          this.finish(running, { state: 'cancelled' })
          void worker.terminate()
        }
      }, CANCEL_GRACE_MS)
      killTimer.unref?.()
    }
    worker.on('message', (msg: WorkerToMain) => {
      if (settled) return
      switch (msg.type) {
        case 'progress':
          this.update(running, { progress: msg.progress })
          break
        case 'badRecord': {
          const kept = running.info.badRecords ?? []
          this.update(running, {
            badRecords: kept.length < MAX_JOB_BAD_RECORDS ? [...kept, msg.report] : kept,
            badRecordCount: (running.info.badRecordCount ?? 0) + 1
          })
          break
        }
        case 'done':
          settled = true
          void this.complete(running, spec, msg.result)
          break
        case 'failed':
          settled = true
          this.finish(running, { state: 'failed', error: msg.error })
          break
        case 'cancelled':
          settled = true
          this.finish(running, { state: 'cancelled' })
          break
      }
    })
    worker.on('error', e => {
      if (settled) return
      settled = true
      this.finish(running, { state: 'failed', error: `The job stopped with an internal error: ${e.message}` })
    })
    worker.on('exit', code => {
      if (killTimer) clearTimeout(killTimer)
      if (settled) return
      settled = true
      this.finish(running, { state: 'failed', error: `The job's worker exited unexpectedly (code ${code}).` })
    })
    return running.info
  }

  /** Runs an async function (I/O-bound work) as a job in this thread. */
  startInline(spec: JobSpec, initial: JobProgress, run: (ctx: InlineJobContext) => Promise<unknown>): JobInfo {
    const running = this.create(spec, initial)
    const abort = new AbortController()
    running.cancel = () => abort.abort()
    const ctx: InlineJobContext = {
      signal: abort.signal,
      progress: (progress, extra) => this.update(running, { progress, ...extra })
    }
    Promise.resolve()
      .then(() => run(ctx))
      .then(
        result => this.complete(running, spec, result),
        (e: Error) =>
          this.finish(running, abort.signal.aborted ? { state: 'cancelled' } : { state: 'failed', error: e.message })
      )
    return running.info
  }

  private create(spec: JobSpec, progress: JobProgress): Running {
    const info: JobInfo = {
      id: randomUUID(),
      kind: spec.kind,
      title: spec.title,
      state: 'running',
      projectId: spec.projectId,
      entryId: spec.entryId,
      progress,
      startedAt: new Date().toISOString()
    }
    const running: Running = { info, cancel: () => undefined, lastEmit: 0 }
    this.jobs.set(info.id, running)
    this.emit(running)
    return running
  }

  private async complete(running: Running, spec: JobSpec, result: unknown): Promise<void> {
    try {
      await spec.onDone?.(result)
      const warnings = (result as { warnings?: unknown } | null | undefined)?.warnings
      this.finish(running, {
        state: 'done',
        ...(Array.isArray(warnings) && warnings.length > 0 ? { warnings: warnings.map(String) } : {})
      })
    } catch (e) {
      this.finish(running, { state: 'failed', error: (e as Error).message })
    }
  }

  private update(running: Running, patch: Partial<JobInfo>): void {
    running.info = { ...running.info, ...patch }
    const now = Date.now()
    if (now - running.lastEmit >= PROGRESS_INTERVAL_MS) {
      this.emit(running)
    } else if (!running.pendingEmit) {
      running.pendingEmit = setTimeout(() => {
        running.pendingEmit = undefined
        this.emit(running)
      }, PROGRESS_INTERVAL_MS)
    }
  }

  private finish(running: Running, patch: Pick<JobInfo, 'state'> & Partial<JobInfo>): void {
    if (running.pendingEmit) clearTimeout(running.pendingEmit)
    running.pendingEmit = undefined
    running.info = { ...running.info, ...patch, finishedAt: new Date().toISOString() }
    this.emit(running)
  }

  private emit(running: Running): void {
    running.lastEmit = Date.now()
    const event: JobEvent = { job: running.info }
    for (const l of this.listeners) {
      try {
        l(event)
      } catch {
        // A listener's failure (a closed connection) must not stop the others.
      }
    }
  }

  /** Waits for a job to leave 'running' (for tests and the CLI). */
  waitFor(id: string): Promise<JobInfo> {
    const job = this.jobs.get(id)
    if (!job) return Promise.reject(new Error(`There is no job "${id}".`))
    if (job.info.state !== 'running' && job.info.state !== 'queued') return Promise.resolve(job.info)
    return new Promise(resolve => {
      const off = this.onEvent(e => {
        if (e.job.id === id && e.job.state !== 'running' && e.job.state !== 'queued') {
          off()
          resolve(e.job)
        }
      })
    })
  }

  /** Cancels every running job and waits for them to end. */
  async shutdown(): Promise<void> {
    const running = this.list().filter(j => j.state === 'running' || j.state === 'queued')
    for (const j of running) this.cancel(j.id)
    await Promise.all(running.map(j => this.waitFor(j.id)))
  }
}
