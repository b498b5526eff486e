/**
 * For sequences typed by the user: the pasted text cleaned to residues, and the project's latent source,
 * opened once per (model, SAE, layer) and kept (the store's `liveSequenceFeatures` does the rest).
 */
import type { RuntimeOptions } from '../engine/runtime/execution-provider'
import { openLatentSource, type OpenLatentSource } from '../engine/sae/open-latent-source'
import type { LatentSource } from '../engine/sae/latent-source'
import { singlePastedRecord } from '../../shared/sequence-text'
import { MAX_LIVE_SEQUENCE } from '../../shared/validate'
import { ClientError } from './errors'
import type { ResolvedModel } from './model-resolver'

/**
 * The longest sequence whose features are computed live, in the request (a few model windows): longer ones
 * are indexed as a job (add them to a project's input), so that one request cannot hold the server for long.
 */
export const MAX_LIVE_QUERY_RESIDUES = 10_000

/**
 * The residues of pasted text where one sequence is asked for: a bare sequence, or FASTA with one record (the
 * header dropped; `singlePastedRecord`, the renderer's rule too). Several records are refused, as is a sequence
 * longer than `maxResidues`.
 */
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

/**
 * The latent sources (ESM2 up to the SAE's layer + the SAE encoder) of the projects' models and SAEs, each
 * opened on first use and kept for the next sequences (one cache per service).
 */
export class LiveSources {
  private readonly open = new Map<string, Promise<OpenLatentSource>>()

  async source(input: {
    model: ResolvedModel
    sae: ResolvedModel
    layer: number
    runtime: RuntimeOptions
    modelCacheRoot: string
  }): Promise<LatentSource> {
    const key = `${input.model.dir}|${input.sae.dir}|${input.layer}|${input.runtime.device}`
    let entry = this.open.get(key)
    if (!entry) {
      entry = openLatentSource({
        modelDir: input.model.dir,
        cacheRoot: input.modelCacheRoot,
        runtime: input.runtime,
        saeDir: input.sae.dir,
        sae: { layer: input.layer, libraryK: input.sae.saeK },
        extractor: { layer: input.layer }
      })
      this.open.set(key, entry)
      entry.catch(() => this.open.delete(key))
    }
    return (await entry).extractor
  }

  /** Forgets the sources reading a model or SAE folder (after it was removed or re-downloaded). */
  async drop(dir: string): Promise<void> {
    for (const [key, p] of [...this.open]) {
      if (key.split('|').includes(dir)) {
        this.open.delete(key)
        await release(p)
      }
    }
  }

  /** Releases every cached model (when the service closes). */
  async close(): Promise<void> {
    const all = [...this.open.values()]
    this.open.clear()
    for (const p of all) await release(p)
  }
}

async function release(p: Promise<OpenLatentSource>): Promise<void> {
  try {
    await (await p).close()
  } catch {
    // failed opens have nothing to release
  }
}
