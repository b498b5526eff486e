/**
 * `LatentExtractor`: SAE latents for streams of sequences, on the model's execution provider. It runs ONE
 * ONNX graph per batch, ESM2 up to the SAE's layer chained with the SAE encoder (sae-graph.ts), with the
 * model's length batching and windowing (`Esm2Model.forwardPieces`):
 *   - `extract()` (the `LatentSource` for indexing) yields `SparseLatents` of the residue rows; only the
 *     non-zero entries leave ONNX Runtime, so JavaScript never scans dense [tokens × dSae] rows;
 *   - `dense()` yields [T, dSae] float32 latents with the `<cls>`/`<eos>` rows (for `plm-sae infer`).
 * Sequences longer than the window are stitched as the model does it (windows.ts). The extractor does not
 * own the model: `close()` releases the extractor's sessions only.
 */
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { PAD_ID } from '../esm/alphabet'
import type { BatchingOptions, Esm2Model, SequenceInput } from '../esm/esm2-model'
import { stitchWindowRows, type ResidueWindow } from '../esm/windows'
import { writeGraphFileOnce } from '../onnx/onnx-model'
import { SessionCache, type ProviderReport } from '../runtime/execution-provider'
import { attentionFormFor, type AttentionForm } from '../esm/esm2-graph'
import type { LatentSource, LatentSourceProgress } from './latent-source'
import {
  buildLatentGraph,
  latentGraphKey,
  MAX_FLAT_LATENTS,
  type LatentGraphSpec,
  type LatentOutput
} from './sae-graph'
import { saeLayerFor } from './sae-load'
import type { SaeWeights } from './sae-weights'
import type { SparseLatents } from './sparse-latents'

/** Dense latents of one sequence: [rows, width], the `<cls>` and `<eos>` rows included (rows = residues + 2). */
export interface DenseLatents {
  id: string
  rows: number
  width: number
  values: Float32Array
}

export interface LatentExtractorOptions {
  /** The layer to read (e.g. --sae-layer); needed when the SAE's files do not say, checked when they do. */
  layer?: number
  /**
   * Batching (default: the model's, with batch tokens capped so that one batch's latents stay within
   * about 128 MB inside ONNX Runtime).
   */
  batching?: BatchingOptions
  /** Tokens read ahead from the input stream per chunk (default 64K). */
  chunkTokens?: number
}

/** Float32 latents per batch kept inside ONNX Runtime by the default batching (32M floats = 128 MB). */
export const LATENT_BATCH_BUDGET = 32 * 1024 * 1024

interface ExtractOptions {
  signal?: AbortSignal
  onProgress?: (p: LatentSourceProgress) => void
}

/** One piece's sparse residue rows (CSR without an id). */
type SparsePiece = Omit<SparseLatents, 'id'>

function padBatch(tokens: Int32Array[]): { ids: BigInt64Array; T: number } {
  const T = Math.max(...tokens.map(t => t.length))
  const ids = new BigInt64Array(tokens.length * T).fill(BigInt(PAD_ID))
  tokens.forEach((t, i) => {
    for (let j = 0; j < t.length; j++) ids[i * T + j] = BigInt(t[j])
  })
  return { ids, T }
}

/** Sparse rows of the final sequence from its windows (residue r from the window that owns it). */
function stitchSparse(id: string, windows: ResidueWindow[], pieces: SparsePiece[], width: number): SparseLatents {
  if (pieces.length === 1) return { id, ...pieces[0] }
  const rows = windows[windows.length - 1].end
  let count = 0
  windows.forEach((w, k) => {
    const p = pieces[k]
    count += p.indptr[w.takeTo - w.start] - p.indptr[w.takeFrom - w.start]
  })
  const indptr = new Uint32Array(rows + 1)
  const features = new Uint32Array(count)
  const values = new Float32Array(count)
  let n = 0
  windows.forEach((w, k) => {
    const p = pieces[k]
    const from = p.indptr[w.takeFrom - w.start]
    const to = p.indptr[w.takeTo - w.start]
    features.set(p.features.subarray(from, to), n)
    values.set(p.values.subarray(from, to), n)
    for (let r = w.takeFrom; r < w.takeTo; r++) indptr[r + 1] = n + p.indptr[r - w.start + 1] - from
    n += to - from
  })
  return { id, rows, width, indptr, features, values }
}

/** Dense [T, width] rows of the final sequence: `<cls>` from the first window, `<eos>` from the last. */
function stitchDense(id: string, windows: ResidueWindow[], pieces: Float32Array[], width: number): DenseLatents {
  const values = stitchWindowRows(windows, pieces, width)
  return { id, rows: values.length / width, width, values }
}

export class LatentExtractor implements LatentSource {
  private readonly sessions: SessionCache<LatentOutput>
  private providerReport: ProviderReport | undefined

  private constructor(
    readonly model: Esm2Model,
    readonly sae: SaeWeights,
    readonly layer: number,
    private readonly batching: BatchingOptions,
    private readonly chunkTokens: number | undefined
  ) {
    this.sessions = new SessionCache(model.runtime, report => (this.providerReport = report))
  }

  /** Which execution provider the chained graphs run on (known after the first run). */
  get provider(): ProviderReport | undefined {
    return this.providerReport
  }

  /** Checks that the SAE fits the model (width, layer) and prepares the chained graphs (built on first use). */
  static async open(model: Esm2Model, sae: SaeWeights, opts: LatentExtractorOptions = {}): Promise<LatentExtractor> {
    const c = model.config
    const layer = saeLayerFor(
      sae,
      { name: model.imported.name, hiddenSize: c.hiddenSize, numLayers: c.numLayers },
      opts.layer
    )
    const base = opts.batching ?? model.batching
    const cap = Math.max(1, Math.floor(Math.min(LATENT_BATCH_BUDGET, MAX_FLAT_LATENTS) / sae.dSae))
    const batching = opts.batching ?? { ...base, maxBatchTokens: Math.min(base.maxBatchTokens, cap) }
    if (batching.maxBatchTokens * sae.dSae > MAX_FLAT_LATENTS) {
      throw new Error(
        `batches of ${batching.maxBatchTokens} tokens × ${sae.dSae} latents overflow the latent index; use at most ${Math.floor(MAX_FLAT_LATENTS / sae.dSae)} batch tokens`
      )
    }
    return new LatentExtractor(model, sae, layer, batching, opts.chunkTokens)
  }

  get dSae(): number {
    return this.sae.dSae
  }

  get maxActivePerResidue(): number | undefined {
    return this.sae.activation.kind === 'topk' ? this.sae.activation.k : undefined
  }

  private spec(output: LatentOutput, attention: AttentionForm): LatentGraphSpec {
    return { layer: this.layer, output, maxTokens: this.model.window + 2, attention }
  }

  /** The ONNX file of a chained graph, written once into the model's cache folder (next to its weights.bin). */
  graphPath(output: LatentOutput, attention: AttentionForm = 'fused'): string {
    const spec = this.spec(output, attention)
    const path = join(this.model.imported.dir, `sae-graph-${latentGraphKey(this.sae, spec)}.onnx`)
    return writeGraphFileOnce(path, () => buildLatentGraph(this.model.imported, this.sae, spec).build(), 'esm2+sae')
  }

  /** Runs a chained graph on the runtime's provider (its attention form is the provider's; CPU fallback in SessionCache). */
  private run(output: LatentOutput, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.ReturnType> {
    return this.sessions.run(output, () => provider => this.graphPath(output, attentionFormFor(provider)), feeds)
  }

  /** Sparse residue rows of one padded batch of pieces. */
  private async runSparse(tokens: Int32Array[]): Promise<SparsePiece[]> {
    const { ids, T } = padBatch(tokens)
    const result = await this.run('sparse', { input_ids: new ort.Tensor('int64', ids, [tokens.length, T]) })
    try {
      const index = result.latent_index.data as Int32Array
      const value = result.latent_value.data as Float32Array
      const width = this.sae.dSae
      const out: SparsePiece[] = []
      let e = 0
      let rowStart = 0
      for (const t of tokens) {
        const rows = t.length - 2
        const endFlat = (rowStart + rows) * width
        let e1 = e
        while (e1 < index.length && index[e1] < endFlat) e1++
        const indptr = new Uint32Array(rows + 1)
        let count = 0
        for (let i = e; i < e1; i++) {
          if (value[i] > 0) {
            indptr[Math.floor(index[i] / width) - rowStart + 1]++
            count++
          }
        }
        for (let r = 0; r < rows; r++) indptr[r + 1] += indptr[r]
        const features = new Uint32Array(count)
        const values = new Float32Array(count)
        let n = 0
        for (let i = e; i < e1; i++) {
          const v = value[i]
          if (v > 0) {
            features[n] = index[i] % width
            values[n] = v
            n++
          }
        }
        out.push({ rows, width, indptr, features, values })
        e = e1
        rowStart += rows
      }
      if (e !== index.length)
        throw new Error(`internal: ${index.length - e} latent entries beyond the batch's ${rowStart} residue rows`)
      return out
    } finally {
      for (const v of Object.values(result)) v.dispose?.()
    }
  }

  private async runDense(tokens: Int32Array[]): Promise<Float32Array[]> {
    const { ids, T } = padBatch(tokens)
    const result = await this.run('dense', { input_ids: new ort.Tensor('int64', ids, [tokens.length, T]) })
    try {
      const data = result.latents.data as Float32Array
      const W = this.sae.dSae
      return tokens.map((t, i) => data.slice(i * T * W, (i * T + t.length) * W))
    } finally {
      for (const v of Object.values(result)) v.dispose?.()
    }
  }

  async *extract(
    inputs: Iterable<SequenceInput> | AsyncIterable<SequenceInput>,
    opts: ExtractOptions = {}
  ): AsyncGenerator<SparseLatents> {
    const progress: LatentSourceProgress = { sequences: 0, residues: 0 }
    for await (const done of this.model.forwardPieces(inputs, t => this.runSparse(t), {
      batching: this.batching,
      chunkTokens: this.chunkTokens,
      signal: opts.signal
    })) {
      const latents = stitchSparse(done.input.id, done.windows, done.results, this.sae.dSae)
      progress.sequences++
      progress.residues += latents.rows
      opts.onProgress?.({ ...progress })
      yield latents
    }
  }

  /** Dense latents [T, dSae] with the `<cls>`/`<eos>` rows, for every input (not necessarily in input order). */
  async *dense(
    inputs: Iterable<SequenceInput> | AsyncIterable<SequenceInput>,
    opts: ExtractOptions = {}
  ): AsyncGenerator<DenseLatents> {
    const progress: LatentSourceProgress = { sequences: 0, residues: 0 }
    for await (const done of this.model.forwardPieces(inputs, t => this.runDense(t), {
      batching: this.batching,
      chunkTokens: this.chunkTokens,
      signal: opts.signal
    })) {
      const latents = stitchDense(done.input.id, done.windows, done.results, this.sae.dSae)
      progress.sequences++
      progress.residues += latents.rows - 2
      opts.onProgress?.({ ...progress })
      yield latents
    }
  }

  async close(): Promise<void> {
    await this.sessions.releaseAll()
  }
}
