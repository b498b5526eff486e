/**
 * Pasted sequences (typed or pasted by the user, not in the store): the pasted text cleaned to residues, and
 * their SAE activations computed on demand in a resident worker thread (`PastedSequenceWorker`), which holds
 * the project's model + SAE: loaded once, reloaded when the project's model, SAE or layer changes, restarted
 * after a crash. The HTTP server and IPC stay responsive while it computes (`pastedSequenceFeatures` and
 * concept reports do the rest on the service's thread: store reads only).
 */
import { singlePastedRecord } from '../../shared/sequence-text'
import { Worker } from 'node:worker_threads'
import type { SequenceInput } from '../engine/esm/esm2-model'
import type { RuntimeOptions } from '../engine/runtime/execution-provider'
import type { LatentSource, LatentSourceProgress } from '../engine/sae/latent-source'
import type { SparseLatents } from '../engine/sae/sparse-latents'
import { MAX_LIVE_SEQUENCE } from '../../shared/validate'
import { ClientError } from './errors'
import type { ResolvedModel } from './model-resolver'
import type { MainToPastedSequenceWorker, PastedSequenceTask, PastedSequenceWorkerToMain } from './worker-protocol'

/**
 * The longest pasted sequence whose activations are computed on demand (a few model windows): longer ones are
 * indexed as a job (add them to a project's input), so that one request cannot hold the worker for long.
 */
export const MAX_PASTED_SEQUENCE_RESIDUES = 10_000

/** After `close`, a worker that has not ended by itself within this time is terminated. */
const CLOSE_GRACE_MS = 10_000

/** The residues of pasted text: a bare sequence, or FASTA with one record (header dropped). */
export function sequenceFromText(text: string, maxResidues = MAX_LIVE_SEQUENCE): string {
  const pasted = singlePastedRecord(text)
  if ('error' in pasted) throw new ClientError(pasted.error)
  const seq = pasted.record.sequence
  if (seq.length > maxResidues) {
    throw new ClientError(
      `The sequence has ${seq.length} residues; at most ${maxResidues} can be analysed live. ` +
        'Index a longer one as a job instead: create a project (or add to one) with it as a FASTA input.'
    )
  }
  return seq
}

/** One request's latents as they arrive from the worker. */
interface PendingExtract {
  items: SparseLatents[]
  done: boolean
  error?: Error
  wake?: () => void
}

/**
 * One resident worker thread holding a model + SAE (a `LatentSource` whose work runs in the thread). Requests
 * are answered one at a time in the order they came. When the thread dies (a crash, an out-of-memory kill),
 * its pending requests fail with a clear error and `exited` is set; the owner starts a new one.
 */
export class PastedSequenceWorker implements LatentSource {
  private readonly pending = new Map<number, PendingExtract>()
  private nextRequest = 0
  private exitError: Error | undefined
  private readonly exitedPromise: Promise<void>

  private constructor(
    private readonly worker: Worker,
    readonly dSae: number,
    readonly layer: number,
    readonly maxActivePerResidue: number | undefined,
    private readonly onExit: () => void
  ) {
    worker.on('message', (msg: PastedSequenceWorkerToMain) => this.onMessage(msg))
    worker.on('error', e => this.fail(`it stopped with an internal error: ${e.message}`))
    this.exitedPromise = new Promise(resolve =>
      worker.once('exit', code => {
        this.fail(`its thread exited unexpectedly (code ${code})`)
        resolve()
      })
    )
  }

  /** Starts a worker thread and waits until it has loaded the model and SAE. */
  static start(
    entry: { file: string; execArgv: string[] },
    task: PastedSequenceTask,
    onExit: () => void
  ): Promise<PastedSequenceWorker> {
    const worker = new Worker(entry.file, { workerData: task, execArgv: entry.execArgv, stdout: false, stderr: false })
    return new Promise((resolve, reject) => {
      const onMessage = (msg: PastedSequenceWorkerToMain): void => {
        if (msg.type === 'ready') {
          off()
          resolve(new PastedSequenceWorker(worker, msg.dSae, msg.layer, msg.maxActivePerResidue, onExit))
        } else if (msg.type === 'openFailed') {
          off()
          onExit()
          void worker.terminate()
          reject(new Error(`The model and SAE for pasted sequences could not be loaded: ${msg.error}`))
        }
      }
      const onError = (e: Error): void => {
        off()
        onExit()
        reject(new Error(`The worker for pasted sequences stopped while loading the model and SAE: ${e.message}`))
      }
      const onEarlyExit = (code: number): void => {
        off()
        onExit()
        reject(new Error(`The worker for pasted sequences exited while loading the model and SAE (code ${code}).`))
      }
      const off = (): void => {
        worker.off('message', onMessage)
        worker.off('error', onError)
        worker.off('exit', onEarlyExit)
      }
      worker.on('message', onMessage)
      worker.on('error', onError)
      worker.on('exit', onEarlyExit)
    })
  }

  /** True once the thread has ended (closed or crashed). */
  get exited(): boolean {
    return this.exitError !== undefined
  }

  async *extract(
    inputs: Iterable<SequenceInput> | AsyncIterable<SequenceInput>,
    opts: { signal?: AbortSignal; onProgress?: (p: LatentSourceProgress) => void } = {}
  ): AsyncGenerator<SparseLatents> {
    const list: SequenceInput[] = []
    for await (const i of inputs) list.push(i)
    if (this.exitError) throw this.exitError
    if (opts.signal?.aborted) throw new Error('cancelled')
    const requestId = ++this.nextRequest
    const pending: PendingExtract = { items: [], done: false }
    this.pending.set(requestId, pending)
    const onAbort = (): void => this.send({ type: 'cancelExtract', requestId })
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    let sequences = 0
    let residues = 0
    try {
      this.send({ type: 'extract', requestId, inputs: list })
      for (;;) {
        const next = pending.items.shift()
        if (next) {
          sequences++
          residues += next.rows
          opts.onProgress?.({ sequences, residues })
          yield next
          continue
        }
        if (pending.error) throw pending.error
        if (pending.done) return
        await new Promise<void>(resolve => (pending.wake = resolve))
      }
    } finally {
      opts.signal?.removeEventListener('abort', onAbort)
      this.pending.delete(requestId)
    }
  }

  /** Asks the thread to finish its requests and release the model; terminates it when it does not end. */
  async close(): Promise<void> {
    if (this.exited) return
    this.send({ type: 'close' })
    const timer = setTimeout(() => void this.worker.terminate(), CLOSE_GRACE_MS)
    timer.unref?.()
    await this.exitedPromise
    clearTimeout(timer)
  }

  private send(msg: MainToPastedSequenceWorker): void {
    this.worker.postMessage(msg)
  }

  private onMessage(msg: PastedSequenceWorkerToMain): void {
    if (msg.type === 'ready' || msg.type === 'openFailed') return
    const p = this.pending.get(msg.requestId)
    if (!p) return
    if (msg.type === 'latents') p.items.push(msg.latents)
    else if (msg.type === 'extracted') p.done = true
    else p.error = new Error(msg.error)
    p.wake?.()
  }

  /** The thread is ending (an error, or its exit): its requests fail, and the owner forgets it at once. */
  private fail(why: string): void {
    if (!this.exitError) this.onExit()
    this.exitError ??= new Error(
      `The worker computing pasted-sequence activations stopped: ${why}. The query was not answered; ` +
        'run it again (a new worker starts and loads the model and SAE).'
    )
    for (const p of this.pending.values()) {
      p.error ??= this.exitError
      p.wake?.()
    }
  }
}

interface CurrentWorker {
  key: string
  dirs: string[]
  worker: Promise<PastedSequenceWorker>
}

/**
 * The service's pasted-sequence worker: one at a time, for the model + SAE + layer asked for last (the open
 * project's). Asking for another pair closes the current worker (after its requests) and starts one for it.
 */
export class PastedSequenceLatents {
  private current: CurrentWorker | undefined

  constructor(private readonly workerEntry: () => { file: string; execArgv: string[] }) {}

  /** The worker for this model + SAE + layer (started, or restarted after a crash, as needed). */
  async source(input: {
    model: ResolvedModel
    sae: ResolvedModel
    layer: number
    runtime: RuntimeOptions
    modelCacheRoot: string
  }): Promise<LatentSource> {
    const key = JSON.stringify([input.model.dir, input.sae.dir, input.sae.saeK, input.layer, input.runtime])
    if (this.current && this.current.key !== key) await this.stop()
    if (!this.current) {
      const task: PastedSequenceTask = {
        kind: 'pasted-sequences',
        modelCacheRoot: input.modelCacheRoot,
        modelDir: input.model.dir,
        saeDir: input.sae.dir,
        ...(input.sae.saeK !== undefined ? { saeK: input.sae.saeK } : {}),
        layer: input.layer,
        runtime: input.runtime
      }
      const entry: CurrentWorker = {
        key,
        dirs: [input.model.dir, input.sae.dir],
        worker: PastedSequenceWorker.start(this.workerEntry(), task, () => {
          if (this.current === entry) this.current = undefined
        })
      }
      this.current = entry
    }
    return this.current.worker
  }

  /** Ends the worker when it reads a model or SAE folder (after it was removed or re-downloaded). */
  async drop(dir: string): Promise<void> {
    if (this.current?.dirs.includes(dir)) await this.stop()
  }

  /** Releases the worker (when the service closes). */
  async close(): Promise<void> {
    await this.stop()
  }

  private async stop(): Promise<void> {
    const current = this.current
    this.current = undefined
    const w = await current?.worker.catch(() => undefined)
    await w?.close()
  }
}
