/**
 * `Esm2Model`: an imported ESM2 model with ONNX Runtime sessions, running batches of token sequences.
 * Sequences are grouped by length so that padding stays small (padding is masked out of attention, so a
 * sequence's results do not depend on its batch), and sequences longer than the window are run in
 * overlapping windows and stitched (see windows.ts).
 */
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { writeGraphFileOnce } from '../onnx/onnx-model'
import {
  SessionCache,
  type ExecutionProvider,
  type ProviderReport,
  type RuntimeOptions
} from '../runtime/execution-provider'
import { CLS_ID, EOS_ID, PAD_ID } from './alphabet'
import type { Esm2Config } from './esm2-config'
import { attentionFormFor, buildEsm2Graph, specKey, type AttentionForm, type Esm2GraphSpec } from './esm2-graph'
import type { ImportedEsm2 } from './esm2-import'
import { planWindows, stitchWindowRows, type ResidueWindow } from './windows'

/** The longest sequence (residues) run in one piece; longer ones are windowed. ESM2 was trained on 1,022 + 2 tokens. */
export const DEFAULT_WINDOW = 1022

export interface ForwardRequest {
  /** Layers whose hidden states are wanted (HF numbering: 0 = embeddings). */
  hidden: number[]
  logits: boolean
}

export interface SequenceInput {
  id: string
  /** `<cls>` + residues + `<eos>`. */
  tokens: Int32Array
}

export interface SequenceOutput {
  id: string
  /** Number of token rows T (residues + 2). */
  length: number
  /** Per requested layer, [T, hidden] row-major. */
  hidden: Map<number, Float32Array>
  /** [T, 33] when logits were requested. */
  logits?: Float32Array
}

export interface BatchingOptions {
  /** Upper bound on batch × padded length (tokens) per run. */
  maxBatchTokens: number
  /** Upper bound on sequences per run. */
  maxBatchSize: number
  /**
   * Pieces of at least this many tokens run alone (or with others of exactly their length): a batch
   * without padding needs no attention mask, so ONNX Runtime takes its flash-attention kernel, which on
   * the CPU beats padded batching from about this length on. Unset: always pack to the limits above.
   */
  soloTokens?: number
}

export const DEFAULT_BATCHING: BatchingOptions = { maxBatchTokens: 4096, maxBatchSize: 32, soloTokens: 64 }

/**
 * Batching on a GPU (CUDA, WebGPU): a GPU is kept busy by large batches, so pieces (sorted by length) are
 * packed to a token budget with no solo runs. The budget bounds the largest intermediate: the attention
 * scores of the explicit (WebGPU) form are batch × heads × T² floats per layer, 8,192 tokens of 1,024 with
 * 20 heads = 8 × 20 × 1024² × 4 B = 0.67 GB (twice that with the softmax), which fits 4 GB GPUs.
 */
export const GPU_BATCHING: BatchingOptions = { maxBatchTokens: 8192, maxBatchSize: 256 }

/** The batching for a provider: GPU_BATCHING on a GPU, DEFAULT_BATCHING on the CPU. */
export function batchingFor(provider: 'cpu' | 'cuda' | 'webgpu'): BatchingOptions {
  return provider === 'cpu' ? DEFAULT_BATCHING : GPU_BATCHING
}

/** How many pieces (sorted longest first) from index `i` on make the next batch. */
export function nextBatchSize(pieces: readonly { tokens: Int32Array }[], i: number, batching: BatchingOptions): number {
  const longest = pieces[i].tokens.length
  const limit = Math.min(batching.maxBatchSize, Math.floor(batching.maxBatchTokens / longest), pieces.length - i)
  if (longest < (batching.soloTokens ?? Infinity)) return Math.max(1, limit)
  let n = 1
  while (n < limit && pieces[i + n].tokens.length === longest) n++
  return n
}

export interface ForwardProgress {
  sequences: number
  tokens: number
}

interface Piece {
  seq: number
  window: number
  tokens: Int32Array
}

export class Esm2Model {
  private providerReport: ProviderReport | undefined
  private readonly sessions: SessionCache<string>

  private constructor(
    readonly imported: ImportedEsm2,
    readonly runtime: RuntimeOptions,
    readonly window: number
  ) {
    this.sessions = new SessionCache(runtime, report => (this.providerReport = report))
  }

  static async open(imported: ImportedEsm2, runtime: RuntimeOptions, window = DEFAULT_WINDOW): Promise<Esm2Model> {
    if (!Number.isInteger(window) || window < 8)
      throw new Error(`window must be an integer of at least 8 residues, got ${window}`)
    return new Esm2Model(imported, runtime, window)
  }

  get config(): Esm2Config {
    return this.imported.config
  }

  /** Which execution provider the sessions run on (known after the first run). */
  get provider(): ProviderReport | undefined {
    return this.providerReport
  }

  /**
   * The batching of `forward` when none is given: the provider's (`batchingFor`), once known; before the
   * first session, the GPU's when a GPU was asked for, else the CPU's (`auto` switches after the first batch).
   */
  get batching(): BatchingOptions {
    const provider =
      this.providerReport?.provider ??
      (this.runtime.device === 'cuda' || this.runtime.device === 'webgpu' ? this.runtime.device : 'cpu')
    return batchingFor(provider)
  }

  /** The ONNX file for a graph spec, written once into the model's cache folder. */
  graphPath(spec: Esm2GraphSpec): string {
    return writeGraphFileOnce(
      join(this.imported.dir, `graph-${specKey(spec)}.onnx`),
      () => buildEsm2Graph(this.imported, spec).build(),
      'esm2'
    )
  }

  /** The graph file of a spec on a provider: the spec's attention form is the one that provider computes exactly. */
  private graphFor(spec: Esm2GraphSpec): (provider: ExecutionProvider) => string {
    return provider => this.graphPath({ ...spec, attention: attentionFormFor(provider) })
  }

  /** The session of a spec (on whichever provider the runtime options give; the spec's attention form is then the provider's). */
  async session(spec: Esm2GraphSpec): Promise<ort.InferenceSession> {
    return this.sessions.get(specKey({ ...spec, attention: 'fused' }), () => this.graphFor(spec))
  }

  private run(spec: Esm2GraphSpec, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.ReturnType> {
    return this.sessions.run(specKey({ ...spec, attention: 'fused' }), () => this.graphFor(spec), feeds)
  }

  spec(req: ForwardRequest, from: Esm2GraphSpec['from'] = 'tokens', attention: AttentionForm = 'fused'): Esm2GraphSpec {
    return {
      from,
      hidden: [...new Set(req.hidden)].sort((a, b) => a - b),
      logits: req.logits,
      maxTokens: this.window + 2,
      attention
    }
  }

  /**
   * Runs one padded batch. Every sequence must fit the window. With `hiddenIn` ([T_i, H] per sequence,
   * the hidden state at layer `from`), the graph starts from that layer instead of the tokens.
   */
  async runBatch(
    tokens: Int32Array[],
    req: ForwardRequest,
    start?: { from: number; hiddenIn: Float32Array[] }
  ): Promise<Omit<SequenceOutput, 'id'>[]> {
    const B = tokens.length
    const T = Math.max(...tokens.map(t => t.length))
    if (T > this.window + 2)
      throw new Error(
        `a sequence of ${T - 2} residues is longer than the window (${this.window}); use forward(), which windows it`
      )
    const ids = new BigInt64Array(B * T).fill(BigInt(PAD_ID))
    tokens.forEach((t, i) => {
      for (let j = 0; j < t.length; j++) ids[i * T + j] = BigInt(t[j])
    })
    const H = this.config.hiddenSize
    const feeds: Record<string, ort.Tensor> = { input_ids: new ort.Tensor('int64', ids, [B, T]) }
    if (start) {
      const h = new Float32Array(B * T * H)
      start.hiddenIn.forEach((x, i) => {
        if (x.length !== tokens[i].length * H)
          throw new Error(`hidden state ${i} has ${x.length} values, expected ${tokens[i].length} × ${H}`)
        h.set(x, i * T * H)
      })
      feeds.hidden_in = new ort.Tensor('float32', h, [B, T, H])
    }
    const result = await this.run(this.spec(req, start ? start.from : 'tokens'), feeds)
    const V = this.config.vocabSize
    const rows = (name: string, width: number, i: number): Float32Array => {
      const data = result[name].data as Float32Array
      return data.slice(i * T * width, (i * T + tokens[i].length) * width)
    }
    const outs = tokens.map((t, i) => {
      const hidden = new Map<number, Float32Array>()
      for (const l of req.hidden) hidden.set(l, rows(`hidden_${l}`, H, i))
      return { length: t.length, hidden, logits: req.logits ? rows('logits', V, i) : undefined }
    })
    for (const v of Object.values(result)) v.dispose?.()
    return outs
  }

  /**
   * Runs any number of sequences (of any length): pieces are sorted by length and packed into batches,
   * long sequences are windowed and stitched. Results are yielded as sequences complete (not in input order).
   * Input is consumed in chunks of about `chunkTokens`, so memory stays bounded for a long stream.
   */
  async *forward(
    inputs: Iterable<SequenceInput> | AsyncIterable<SequenceInput>,
    req: ForwardRequest,
    opts: {
      batching?: BatchingOptions
      chunkTokens?: number
      signal?: AbortSignal
      onProgress?: (p: ForwardProgress) => void
    } = {}
  ): AsyncGenerator<SequenceOutput> {
    const progress: ForwardProgress = { sequences: 0, tokens: 0 }
    const run = async (tokens: Int32Array[]) => this.runBatch(tokens, req)
    for await (const done of this.forwardPieces(inputs, run, opts)) {
      const H = this.config.hiddenSize
      const hidden = new Map<number, Float32Array>()
      for (const l of req.hidden)
        hidden.set(
          l,
          stitchWindowRows(
            done.windows,
            done.results.map(r => r.hidden.get(l)!),
            H
          )
        )
      const logits = req.logits
        ? stitchWindowRows(
            done.windows,
            done.results.map(r => r.logits!),
            this.config.vocabSize
          )
        : undefined
      const out: SequenceOutput = { id: done.input.id, length: done.input.tokens.length, hidden, logits }
      progress.sequences++
      progress.tokens += out.length
      opts.onProgress?.({ ...progress })
      yield out
    }
  }

  /**
   * The streaming, length batching and windowing of `forward`, for graphs that chain more onto `addEsm2`
   * (e.g. an SAE encoder, see sae/latent-extractor.ts) and so have outputs of their own. `run` runs one
   * padded batch of token pieces (each fits the window; `<cls>` + residues + `<eos>`) and returns one
   * result per piece. Each sequence is yielded once all its pieces have run, with its windows and their
   * results in window order; the caller stitches (a single window covers the whole sequence).
   */
  async *forwardPieces<R>(
    inputs: Iterable<SequenceInput> | AsyncIterable<SequenceInput>,
    run: (tokens: Int32Array[]) => Promise<R[]>,
    opts: { batching?: BatchingOptions; chunkTokens?: number; signal?: AbortSignal } = {}
  ): AsyncGenerator<{ input: SequenceInput; windows: ResidueWindow[]; results: R[] }> {
    const chunkTokens = opts.chunkTokens ?? 64 * 1024
    let chunk: SequenceInput[] = []
    let chunkSize = 0
    const flush = async function* (this: Esm2Model) {
      const pending = chunk.map(input => {
        const windows = planWindows(input.tokens.length - 2, this.window)
        return { input, windows, results: new Array<R>(windows.length), remaining: windows.length }
      })
      chunk = []
      chunkSize = 0
      const pieces: Piece[] = []
      pending.forEach((p, seq) =>
        p.windows.forEach((w, window) => {
          if (p.windows.length === 1) return void pieces.push({ seq, window, tokens: p.input.tokens })
          const t = new Int32Array(w.end - w.start + 2)
          t[0] = CLS_ID
          t.set(p.input.tokens.subarray(1 + w.start, 1 + w.end), 1)
          t[t.length - 1] = EOS_ID
          pieces.push({ seq, window, tokens: t })
        })
      )
      pieces.sort((a, b) => b.tokens.length - a.tokens.length)
      for (let i = 0; i < pieces.length;) {
        if (opts.signal?.aborted) throw new Error('cancelled')
        const n = nextBatchSize(pieces, i, opts.batching ?? this.batching)
        const batch = pieces.slice(i, i + n)
        i += n
        const outs = await run(batch.map(p => p.tokens))
        for (let k = 0; k < batch.length; k++) {
          const p = pending[batch[k].seq]
          p.results[batch[k].window] = outs[k]
          if (--p.remaining === 0) yield { input: p.input, windows: p.windows, results: p.results }
        }
      }
    }.bind(this)
    for await (const input of inputs) {
      chunk.push(input)
      chunkSize += input.tokens.length
      if (chunkSize >= chunkTokens) yield* flush()
    }
    if (chunk.length > 0) yield* flush()
  }

  async close(): Promise<void> {
    await this.sessions.releaseAll()
  }
}
