/**
 * For sequences typed by the user: the pasted text cleaned to residues, and the project's latent source,
 * opened once per (model, SAE, layer) and kept (the store's `liveSequenceFeatures` does the rest).
 */
import { importEsm2 } from '../engine/esm/esm2-import'
import { Esm2Model } from '../engine/esm/esm2-model'
import type { RuntimeOptions } from '../engine/runtime/execution-provider'
import { LatentExtractor } from '../engine/sae/latent-extractor'
import { loadSae } from '../engine/sae/sae-load'
import type { LatentSource } from '../engine/sae/latent-source'
import { MAX_LIVE_SEQUENCE } from '../../shared/validate'
import { ClientError } from './errors'
import type { ResolvedModel } from './model-resolver'

interface OpenExtractor {
  model: Esm2Model
  extractor: LatentExtractor
}

/**
 * The longest sequence whose features are computed live, in the request (a few model windows): longer ones
 * are indexed as a job (add them to a project's input), so that one request cannot hold the server for long.
 */
export const MAX_LIVE_QUERY_RESIDUES = 10_000

/** The residues of pasted text: a bare sequence, or FASTA with one record (header dropped). */
export function sequenceFromText(text: string, maxResidues = MAX_LIVE_SEQUENCE): string {
  const lines = text.split(/\r?\n/)
  const headers = lines.filter(l => l.startsWith('>')).length
  if (headers > 1) throw new ClientError(`The pasted text has ${headers} FASTA records: paste one sequence at a time.`)
  const seq = lines
    .filter(l => !l.startsWith('>') && !l.startsWith(';'))
    .join('')
    .replace(/\s+/g, '')
    .toUpperCase()
  if (seq.length === 0)
    throw new ClientError(
      'The pasted text has no sequence: paste residues in one-letter code (e.g. MQIFVKTLTG…), optionally with a FASTA header.'
    )
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
  private readonly open = new Map<string, Promise<OpenExtractor>>()

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
      entry = (async () => {
        const imported = await importEsm2(input.model.dir, input.modelCacheRoot)
        const model = await Esm2Model.open(imported, input.runtime)
        const sae = await loadSae(input.sae.dir, { layer: input.layer, libraryK: input.sae.saeK })
        const extractor = await LatentExtractor.open(model, sae, { layer: input.layer })
        return { model, extractor }
      })()
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

async function release(p: Promise<OpenExtractor>): Promise<void> {
  try {
    const { extractor, model } = await p
    await extractor.close()
    await model.close()
  } catch {
    // failed opens have nothing to release
  }
}
