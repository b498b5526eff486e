/** The architecture of an ESM2 model, read from a Hugging Face `config.json` or a fair-esm checkpoint. */
import { MASK_ID, PAD_ID, VOCAB_SIZE } from './alphabet'

export interface Esm2Config {
  numLayers: number
  hiddenSize: number
  numHeads: number
  intermediateSize: number
  vocabSize: number
  layerNormEps: number
  tokenDropout: boolean
  maskTokenId: number
  padTokenId: number
  maxPositionEmbeddings: number
}

export function headDim(c: Esm2Config): number {
  return c.hiddenSize / c.numHeads
}

/** The published ESM2 sizes, used to fill in what a fair-esm checkpoint leaves out (never to name a checkpoint). */
export const KNOWN_ESM2 = [
  { name: 'esm2_t6_8M_UR50D', numLayers: 6, hiddenSize: 320, numHeads: 20 },
  { name: 'esm2_t12_35M_UR50D', numLayers: 12, hiddenSize: 480, numHeads: 20 },
  { name: 'esm2_t30_150M_UR50D', numLayers: 30, hiddenSize: 640, numHeads: 20 },
  { name: 'esm2_t33_650M_UR50D', numLayers: 33, hiddenSize: 1280, numHeads: 20 },
  { name: 'esm2_t36_3B_UR50D', numLayers: 36, hiddenSize: 2560, numHeads: 40 },
  { name: 'esm2_t48_15B_UR50D', numLayers: 48, hiddenSize: 5120, numHeads: 40 }
] as const

function need<T>(value: T | undefined | null, key: string, file: string): T {
  if (value === undefined || value === null)
    throw new Error(`${file}: missing "${key}"; this does not look like an ESM2 config.json`)
  return value
}

/** Parses a Hugging Face ESM `config.json`, refusing what our graphs do not implement. */
export function parseHfEsmConfig(json: Record<string, unknown>, file: string): Esm2Config {
  const modelType = json.model_type
  if (modelType !== undefined && modelType !== 'esm') {
    throw new Error(`${file}: model_type is "${String(modelType)}", not "esm"; only ESM2 checkpoints are supported`)
  }
  if (json.is_folding_model === true)
    throw new Error(`${file}: this is an ESMFold checkpoint, not an ESM2 language model`)
  const pos = json.position_embedding_type ?? 'absolute'
  if (pos !== 'rotary') {
    throw new Error(
      `${file}: position_embedding_type is "${String(pos)}"; ESM2 uses "rotary" (ESM-1b style absolute positions are not supported)`
    )
  }
  if (json.emb_layer_norm_before === true)
    throw new Error(`${file}: emb_layer_norm_before=true is ESM-1b, not ESM2; not supported`)
  const act = json.hidden_act ?? 'gelu'
  if (act !== 'gelu') throw new Error(`${file}: hidden_act "${String(act)}" is not supported (ESM2 uses gelu)`)
  const config: Esm2Config = {
    numLayers: need(json.num_hidden_layers as number, 'num_hidden_layers', file),
    hiddenSize: need(json.hidden_size as number, 'hidden_size', file),
    numHeads: need(json.num_attention_heads as number, 'num_attention_heads', file),
    intermediateSize: need(json.intermediate_size as number, 'intermediate_size', file),
    vocabSize: (json.vocab_size as number) ?? VOCAB_SIZE,
    layerNormEps: (json.layer_norm_eps as number) ?? 1e-5,
    tokenDropout: (json.token_dropout as boolean) ?? true,
    maskTokenId: (json.mask_token_id as number) ?? MASK_ID,
    padTokenId: (json.pad_token_id as number) ?? PAD_ID,
    maxPositionEmbeddings: (json.max_position_embeddings as number) ?? 1026
  }
  validateConfig(config, file)
  return config
}

export function validateConfig(c: Esm2Config, source: string): void {
  const ints: (keyof Esm2Config)[] = ['numLayers', 'hiddenSize', 'numHeads', 'intermediateSize', 'vocabSize']
  for (const k of ints) {
    const v = c[k] as number
    if (!Number.isInteger(v) || v <= 0) throw new Error(`${source}: ${k} must be a positive integer, got ${String(v)}`)
  }
  if (c.hiddenSize % c.numHeads !== 0)
    throw new Error(`${source}: hidden size ${c.hiddenSize} is not divisible by ${c.numHeads} heads`)
  if (headDim(c) % 2 !== 0)
    throw new Error(`${source}: head dimension ${headDim(c)} is odd; rotary embeddings need an even one`)
  if (c.vocabSize !== VOCAB_SIZE)
    throw new Error(`${source}: vocab_size is ${c.vocabSize}; the ESM alphabet has ${VOCAB_SIZE} tokens`)
  if (c.maskTokenId !== MASK_ID || c.padTokenId !== PAD_ID) {
    throw new Error(
      `${source}: mask/pad token ids ${c.maskTokenId}/${c.padTokenId} differ from the ESM alphabet's ${MASK_ID}/${PAD_ID}`
    )
  }
}
