/**
 * The pasted-sequence worker's side (it runs in worker.ts, away from the thread that serves the UI): loads the
 * project's model (ESM2 up to the SAE's layer) and SAE once, then computes the SAE activations of pasted
 * sequences, one request at a time, until the service sends `close` (pasted-sequences.ts is the other side).
 */
import type { MessagePort } from 'node:worker_threads'
import { openLatentSource, type OpenLatentSource } from '../engine/sae/open-latent-source'
import type { SparseLatents } from '../engine/sae/sparse-latents'
import type { MainToPastedSequenceWorker, PastedSequenceTask, PastedSequenceWorkerToMain } from './worker-protocol'

/** The buffers of a latents message, each once (they move to the main thread instead of being copied). */
function buffersOf(l: SparseLatents): ArrayBuffer[] {
  return [...new Set([l.indptr.buffer, l.features.buffer, l.values.buffer])].filter(
    (b): b is ArrayBuffer => b instanceof ArrayBuffer
  )
}

export async function servePastedSequences(task: PastedSequenceTask, port: MessagePort): Promise<void> {
  const post = (msg: PastedSequenceWorkerToMain, transfer: ArrayBuffer[] = []): void => port.postMessage(msg, transfer)
  let opened: OpenLatentSource
  try {
    // openLatentSource closes whatever it opened when a step fails
    opened = await openLatentSource({
      modelDir: task.modelDir,
      cacheRoot: task.modelCacheRoot,
      runtime: task.runtime,
      saeDir: task.saeDir,
      sae: { layer: task.layer, libraryK: task.saeK },
      extractor: { layer: task.layer }
    })
  } catch (e) {
    post({ type: 'openFailed', error: (e as Error).message })
    return
  }
  const source = opened.extractor
  const aborts = new Map<number, AbortController>()
  let queue = Promise.resolve()
  await new Promise<void>(resolve => {
    port.on('message', (msg: MainToPastedSequenceWorker) => {
      switch (msg.type) {
        case 'extract': {
          const abort = new AbortController()
          aborts.set(msg.requestId, abort)
          queue = queue.then(async () => {
            try {
              if (abort.signal.aborted) throw new Error('cancelled')
              for await (const l of source.extract(msg.inputs, { signal: abort.signal }))
                post({ type: 'latents', requestId: msg.requestId, latents: l }, buffersOf(l))
              post({ type: 'extracted', requestId: msg.requestId })
            } catch (e) {
              post({ type: 'extractFailed', requestId: msg.requestId, error: (e as Error).message })
            } finally {
              aborts.delete(msg.requestId)
            }
          })
          break
        }
        case 'cancelExtract':
          aborts.get(msg.requestId)?.abort()
          break
        case 'close':
          for (const a of aborts.values()) a.abort()
          void queue.then(resolve)
          break
      }
    })
    post({ type: 'ready', dSae: source.dSae, layer: source.layer, maxActivePerResidue: source.maxActivePerResidue })
  })
  await opened.close()
}
