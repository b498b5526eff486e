/**
 * The SAE encoder as ONNX, chained after the ESM2 graph in ONE graph (token ids → latents), so hidden states
 * never travel through JavaScript. The encoder computes exactly the canonical formula of sae-weights.ts:
 *
 *   x' = x | x·√dIn / max(||x||, 1e-8) | (x − mean) / (unbiased std + 1e-5)      (inputNorm)
 *   z = (x' − preBias) · encWeight + encBias
 *   f = act(z) ⊙ featureScale       act: Relu | TopK(k) (then Relu), scattered back | z · (z > threshold) (then Relu)
 *
 * Two graph outputs:
 *   'dense'  `latents` [B, T, dSae] for every token row (the `<cls>`/`<eos>` rows included; padding rows are garbage);
 *   'sparse' only the residue rows are encoded: the rows of `<cls>`, `<eos>` and `<pad>` are dropped first
 *            (Gather of the residue rows, in batch-then-position order), and the latents leave the graph as
 *            `latent_index` int32 [nnz] (row · dSae + feature, increasing) and `latent_value` float [nnz],
 *            the non-zero entries found by NonZero. Memory per batch is one [residues × dSae] float tensor
 *            inside ONNX Runtime, and JavaScript only touches the non-zero entries. `SparseLatents` keep the
 *            features that fire (value > 0): a JumpReLU SAE with negative thresholds would also pass
 *            negative values, which the dense output keeps and the sparse one drops.
 */
import { createHash } from 'node:crypto'
import { CLS_ID, EOS_ID, PAD_ID } from '../esm/alphabet'
import { addEsm2, specKey, type AttentionForm, type Esm2GraphSpec } from '../esm/esm2-graph'
import type { ImportedEsm2 } from '../esm/esm2-import'
import { ElemType, GraphBuilder } from '../onnx/onnx-model'
import { MIN_INPUT_NORM } from './sae-math'
import { STANDARDIZE_EPS, type SaeWeights } from './sae-weights'

export type LatentOutput = 'dense' | 'sparse'

export interface LatentGraphSpec {
  /** The model layer the SAE reads (HF hidden_states numbering). */
  layer: number
  output: LatentOutput
  /** Longest token sequence (incl. `<cls>`/`<eos>`) the graph accepts. */
  maxTokens: number
  /** The ESM2 part's attention form (the execution provider's, see esm/esm2-graph.ts). */
  attention: AttentionForm
}

/** The largest batch of rows × dSae whose flat index still fits `latent_index` (int32). */
export const MAX_FLAT_LATENTS = 2 ** 31 - 1

function floatInit(b: GraphBuilder, name: string, values: Float32Array, dims: number[]): string {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength)
  return b.initializer({ name, elemType: ElemType.FLOAT, dims, data: { kind: 'raw', bytes } })
}

function allEqual(values: Float32Array, v: number): boolean {
  for (let i = 0; i < values.length; i++) if (values[i] !== v) return false
  return true
}

/**
 * Adds the SAE encoder applied to `x` ([..., dIn], any leading dims) to a builder; returns the name of the
 * latents f ([..., dSae]).
 */
export function addSaeEncoder(b: GraphBuilder, sae: SaeWeights, x: string): string {
  const { dIn, dSae } = sae
  let input = x
  if (sae.inputNorm === 'sqrt-d') {
    const norm = b.node('Sqrt', [b.reduceSum(b.mul(x, x), [-1], true)])
    const s = b.div(b.constFloat([Math.sqrt(dIn)], []), b.node('Max', [norm, b.constFloat([MIN_INPUT_NORM], [])]))
    input = b.mul(x, s)
  } else if (sae.inputNorm === 'standardize') {
    const mean = b.mul(b.reduceSum(x, [-1], true), b.constFloat([1 / dIn], []))
    const centred = b.sub(x, mean)
    const variance = b.mul(
      b.reduceSum(b.mul(centred, centred), [-1], true),
      b.constFloat([1 / Math.max(1, dIn - 1)], [])
    )
    input = b.div(centred, b.add(b.node('Sqrt', [variance]), b.constFloat([STANDARDIZE_EPS], [])))
  }
  if (!allEqual(sae.preBias, 0)) input = b.sub(input, floatInit(b, 'sae.pre_bias', sae.preBias, [dIn]))
  const z = b.add(
    b.matMul(input, floatInit(b, 'sae.enc_weight', sae.encWeight, [dIn, dSae])),
    floatInit(b, 'sae.enc_bias', sae.encBias, [dSae])
  )
  let f: string
  const act = sae.activation
  if (act.kind === 'relu') {
    f = b.relu(z)
  } else if (act.kind === 'topk') {
    const k = Math.min(act.k, dSae)
    const [values, indices] = b.nodeMulti('TopK', [z, b.constInt64([k])], 2, {
      axis: { type: 'int', value: -1 },
      largest: { type: 'int', value: 1 },
      sorted: { type: 'int', value: 0 }
    })
    const zeros = b.node('ConstantOfShape', [b.node('Shape', [z])])
    f = b.node('ScatterElements', [zeros, indices, act.relu ? b.relu(values) : values], {
      attributes: { axis: { type: 'int', value: -1 } }
    })
  } else {
    const keep = b.cast(b.node('Greater', [z, floatInit(b, 'sae.threshold', act.threshold, [dSae])]), ElemType.FLOAT)
    f = b.mul(act.relu ? b.relu(z) : z, keep)
  }
  if (!allEqual(sae.featureScale, 1)) f = b.mul(f, floatInit(b, 'sae.feature_scale', sae.featureScale, [dSae]))
  return f
}

/** The ESM2 spec the latent graph runs: from the tokens up to the SAE's layer, nothing else. */
export function esmSpecFor(spec: LatentGraphSpec): Esm2GraphSpec {
  return { from: 'tokens', hidden: [spec.layer], logits: false, maxTokens: spec.maxTokens, attention: spec.attention }
}

/**
 * tokens → latents. Inputs `input_ids` int64 [B, T]; outputs `latents` (dense) or `latent_index` +
 * `latent_value` (sparse), see the file comment.
 */
export function buildLatentGraph(model: ImportedEsm2, sae: SaeWeights, spec: LatentGraphSpec): GraphBuilder {
  const H = model.config.hiddenSize
  if (sae.dIn !== H)
    throw new Error(`SAE ${sae.name} reads vectors of width ${sae.dIn}, but the model has hidden size ${H}`)
  const b = new GraphBuilder(`esm2_sae_${spec.output}_l${spec.layer}`)
  const ids = b.input('input_ids', ElemType.INT64, ['batch', 'tokens'])
  const esm = addEsm2(b, model, esmSpecFor(spec), ids)
  const hidden = esm.hidden.get(spec.layer)
  if (hidden === undefined) throw new Error(`internal: the ESM2 graph has no layer ${spec.layer}`)
  if (spec.output === 'dense') {
    b.output(addSaeEncoder(b, sae, hidden), 'latents', ElemType.FLOAT, ['batch', 'tokens', sae.dSae])
    return b
  }
  // residue rows only: drop <cls>, <eos> and <pad> before encoding
  const flatIds = b.reshape(ids, [-1])
  const special = b.node('Or', [
    b.node('Or', [b.equal(flatIds, b.constInt64([CLS_ID], [])), b.equal(flatIds, b.constInt64([EOS_ID], []))]),
    b.equal(flatIds, b.constInt64([PAD_ID], []))
  ])
  const residueRows = b.reshape(b.node('NonZero', [b.node('Not', [special])]), [-1])
  const rows = b.gather(b.reshape(hidden, [-1, H]), residueRows)
  const f = b.reshape(addSaeEncoder(b, sae, rows), [-1])
  const nz = b.reshape(b.node('NonZero', [f]), [-1])
  b.output(b.cast(nz, ElemType.INT32), 'latent_index', ElemType.INT32, ['nnz'])
  b.output(b.gather(f, nz), 'latent_value', ElemType.FLOAT, ['nnz'])
  return b
}

/**
 * A key identifying a latent graph: the SAE's canonical weights (hashed, so an SAE built in memory is
 * keyed by its content too), the layer, the output kind and the ESM2 spec.
 */
export function latentGraphKey(sae: SaeWeights, spec: LatentGraphSpec): string {
  const h = createHash('sha256')
  const act = sae.activation
  h.update(
    JSON.stringify({
      v: 2,
      dIn: sae.dIn,
      dSae: sae.dSae,
      act: act.kind,
      k: act.kind === 'topk' ? act.k : null,
      relu: act.kind === 'relu' || act.relu,
      norm: sae.inputNorm,
      spec
    })
  )
  const arrays = [sae.preBias, sae.encWeight, sae.encBias, sae.featureScale]
  if (act.kind === 'jumprelu') arrays.push(act.threshold)
  for (const a of arrays) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
  return `${specKey(esmSpecFor(spec))}_${spec.output}_${h.digest('hex').slice(0, 16)}`
}
