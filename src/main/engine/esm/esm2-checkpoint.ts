/**
 * Opens an ESM2 checkpoint in any of the supported layouts and presents its weights under one set of
 * names (`Esm2ParamName`), with the architecture read from its config:
 * - a Hugging Face folder: `config.json` + `model.safetensors` (or `pytorch_model.bin`, a PyTorch zip pickle),
 *   or a sharded checkpoint (`model.safetensors.index.json` / `pytorch_model.bin.index.json` + the shards it lists);
 * - an original fair-esm `.pt` checkpoint (`esm2_t6_8M_UR50D.pt`, ...), whose parameters have other names.
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import type { StoredTensor, TensorArchive } from '../formats/tensor-archive'
import { openSafetensors } from '../formats/safetensors'
import { openShardedArchive, SHARD_INDEX_FILES } from '../formats/sharded-archive'
import { attributesOf, PickleObject } from '../formats/pickle'
import { openTorchCheckpoint, TorchTensor } from '../formats/torch-checkpoint'
import { checkVocabulary } from './alphabet'
import { KNOWN_ESM2, parseHfEsmConfig, validateConfig, type Esm2Config } from './esm2-config'

/** Our names for the parameters of one ESM2 block. */
export const BLOCK_PARAMS = [
  'q.w',
  'q.b',
  'k.w',
  'k.b',
  'v.w',
  'v.b',
  'out.w',
  'out.b',
  'ln1.w',
  'ln1.b',
  'fc1.w',
  'fc1.b',
  'fc2.w',
  'fc2.b',
  'ln2.w',
  'ln2.b'
] as const
export type BlockParam = (typeof BLOCK_PARAMS)[number]

export const TOP_PARAMS = [
  'embed',
  'final_ln.w',
  'final_ln.b',
  'lm.dense.w',
  'lm.dense.b',
  'lm.ln.w',
  'lm.ln.b',
  'lm.decoder',
  'lm.bias'
] as const
export type TopParam = (typeof TOP_PARAMS)[number]

/** `embed`, `layer.3.fc1.w`, ... Linear weights keep PyTorch's [out, in] layout. */
export type Esm2ParamName = TopParam | `layer.${number}.${BlockParam}`

/** `-sharded`: an index (`*.index.json`) and the shard files it lists. */
export type CheckpointFormat =
  'hf-safetensors' | 'hf-safetensors-sharded' | 'hf-pytorch' | 'hf-pytorch-sharded' | 'fair-esm'

export interface Esm2Checkpoint {
  readonly source: string
  /**
   * What the checkpoint is, never the published model whose shape it shares: the demo marker's name, the
   * Hugging Face hub repository it was downloaded as, the config's `_name_or_path` (unless it is a local path
   * of the machine that saved it), or the folder/file name.
   */
  readonly name: string
  readonly format: CheckpointFormat
  readonly config: Esm2Config
  /** The files whose bytes define the model (hashed for the cache key). */
  readonly files: string[]
  readonly params: ReadonlyMap<string, StoredTensor>
  /** False for a bare EsmModel checkpoint with no LM head: logits cannot be computed. */
  readonly hasLmHead: boolean
  close(): void
}

const HF_BLOCK: Record<string, BlockParam> = {
  'attention.self.query.weight': 'q.w',
  'attention.self.query.bias': 'q.b',
  'attention.self.key.weight': 'k.w',
  'attention.self.key.bias': 'k.b',
  'attention.self.value.weight': 'v.w',
  'attention.self.value.bias': 'v.b',
  'attention.output.dense.weight': 'out.w',
  'attention.output.dense.bias': 'out.b',
  'attention.LayerNorm.weight': 'ln1.w',
  'attention.LayerNorm.bias': 'ln1.b',
  'intermediate.dense.weight': 'fc1.w',
  'intermediate.dense.bias': 'fc1.b',
  'output.dense.weight': 'fc2.w',
  'output.dense.bias': 'fc2.b',
  'LayerNorm.weight': 'ln2.w',
  'LayerNorm.bias': 'ln2.b'
}

const HF_TOP: Record<string, TopParam> = {
  'embeddings.word_embeddings.weight': 'embed',
  'encoder.emb_layer_norm_after.weight': 'final_ln.w',
  'encoder.emb_layer_norm_after.bias': 'final_ln.b'
}

const LM_HEAD: Record<string, TopParam> = {
  'lm_head.dense.weight': 'lm.dense.w',
  'lm_head.dense.bias': 'lm.dense.b',
  'lm_head.layer_norm.weight': 'lm.ln.w',
  'lm_head.layer_norm.bias': 'lm.ln.b',
  'lm_head.decoder.weight': 'lm.decoder',
  'lm_head.weight': 'lm.decoder',
  'lm_head.bias': 'lm.bias',
  'lm_head.decoder.bias': 'lm.bias'
}

const FAIR_BLOCK: Record<string, BlockParam> = {
  'self_attn.q_proj.weight': 'q.w',
  'self_attn.q_proj.bias': 'q.b',
  'self_attn.k_proj.weight': 'k.w',
  'self_attn.k_proj.bias': 'k.b',
  'self_attn.v_proj.weight': 'v.w',
  'self_attn.v_proj.bias': 'v.b',
  'self_attn.out_proj.weight': 'out.w',
  'self_attn.out_proj.bias': 'out.b',
  'self_attn_layer_norm.weight': 'ln1.w',
  'self_attn_layer_norm.bias': 'ln1.b',
  'fc1.weight': 'fc1.w',
  'fc1.bias': 'fc1.b',
  'fc2.weight': 'fc2.w',
  'fc2.bias': 'fc2.b',
  'final_layer_norm.weight': 'ln2.w',
  'final_layer_norm.bias': 'ln2.b'
}

const FAIR_TOP: Record<string, TopParam> = {
  'embed_tokens.weight': 'embed',
  'emb_layer_norm_after.weight': 'final_ln.w',
  'emb_layer_norm_after.bias': 'final_ln.b'
}

/** Maps a Hugging Face parameter name (with or without the `esm.` prefix) to ours. */
function hfName(name: string): string | undefined {
  if (LM_HEAD[name]) return LM_HEAD[name]
  const n = name.startsWith('esm.') ? name.slice(4) : name
  if (HF_TOP[n]) return HF_TOP[n]
  const m = /^encoder\.layer\.(\d+)\.(.+)$/.exec(n)
  if (m && HF_BLOCK[m[2]]) return `layer.${m[1]}.${HF_BLOCK[m[2]]}`
  return undefined
}

/** Maps a fair-esm parameter name (after the state dict's `encoder.sentence_encoder.`/`encoder.` prefix) to ours. */
function fairName(name: string): string | undefined {
  const n = name.replace(/^(model\.)?(encoder\.sentence_encoder\.|encoder\.)?/, '')
  if (LM_HEAD[n]) return LM_HEAD[n]
  if (FAIR_TOP[n]) return FAIR_TOP[n]
  const m = /^layers\.(\d+)\.(.+)$/.exec(n)
  if (m && FAIR_BLOCK[m[2]]) return `layer.${m[1]}.${FAIR_BLOCK[m[2]]}`
  return undefined
}

function renameParams(archive: TensorArchive, rename: (n: string) => string | undefined): Map<string, StoredTensor> {
  const out = new Map<string, StoredTensor>()
  for (const [name, t] of archive.tensors) {
    const ours = rename(name)
    if (!ours) continue // buffers (rotary inv_freq, position ids), the contact head: not part of the LM
    if (out.has(ours) && ours !== 'lm.decoder' && ours !== 'lm.bias') {
      throw new Error(`${archive.source}: two tensors map to ${ours} (second: "${name}")`)
    }
    out.set(ours, t)
  }
  return out
}

/** Checks that every parameter is present with the shape the config implies. */
function checkParams(params: Map<string, StoredTensor>, c: Esm2Config, source: string): boolean {
  const H = c.hiddenSize
  const F = c.intermediateSize
  const V = c.vocabSize
  if (!params.has('lm.decoder') && params.has('embed')) params.set('lm.decoder', params.get('embed')!) // tied weights
  const hasLmHead = params.has('lm.dense.w')
  const expected: [string, number[]][] = [
    ['embed', [V, H]],
    ['final_ln.w', [H]],
    ['final_ln.b', [H]]
  ]
  if (hasLmHead) {
    expected.push(
      ['lm.dense.w', [H, H]],
      ['lm.dense.b', [H]],
      ['lm.ln.w', [H]],
      ['lm.ln.b', [H]],
      ['lm.decoder', [V, H]],
      ['lm.bias', [V]]
    )
  }
  const block: Record<BlockParam, number[]> = {
    'q.w': [H, H],
    'q.b': [H],
    'k.w': [H, H],
    'k.b': [H],
    'v.w': [H, H],
    'v.b': [H],
    'out.w': [H, H],
    'out.b': [H],
    'ln1.w': [H],
    'ln1.b': [H],
    'fc1.w': [F, H],
    'fc1.b': [F],
    'fc2.w': [H, F],
    'fc2.b': [H],
    'ln2.w': [H],
    'ln2.b': [H]
  }
  for (let l = 0; l < c.numLayers; l++) for (const p of BLOCK_PARAMS) expected.push([`layer.${l}.${p}`, block[p]])
  for (const [name, shape] of expected) {
    const t = params.get(name)
    if (!t)
      throw new Error(
        `${source}: the checkpoint has no weights for ${name} (config says ${c.numLayers} layers of width ${H}); the file is incomplete or not an ESM2 model`
      )
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(
        `${source}: ${name} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}] for this config`
      )
    }
  }
  const extraLayer = [...params.keys()].find(k => {
    const m = /^layer\.(\d+)\./.exec(k)
    return m && Number(m[1]) >= c.numLayers
  })
  if (extraLayer)
    throw new Error(`${source}: the checkpoint has ${extraLayer} but the config says ${c.numLayers} layers`)
  return hasLmHead
}

/**
 * The weights of a Hugging Face folder, in the order `from_pretrained` looks for them: model.safetensors,
 * the sharded model.safetensors.index.json, pytorch_model.bin, the sharded pytorch_model.bin.index.json.
 * `files` are the files whose bytes define the weights (for a sharded checkpoint: the index and every shard).
 */
function openHfWeights(dir: string): { archive: TensorArchive; format: CheckpointFormat; files: string[] } {
  const st = join(dir, 'model.safetensors')
  if (existsSync(st)) return { archive: openSafetensors(st), format: 'hf-safetensors', files: [st] }
  const stIndex = join(dir, SHARD_INDEX_FILES[0])
  if (existsSync(stIndex)) return sharded(stIndex, 'hf-safetensors-sharded')
  const bin = join(dir, 'pytorch_model.bin')
  if (existsSync(bin)) return { archive: openTorchCheckpoint(bin), format: 'hf-pytorch', files: [bin] }
  const binIndex = join(dir, SHARD_INDEX_FILES[1])
  if (existsSync(binIndex)) return sharded(binIndex, 'hf-pytorch-sharded')
  throw new Error(
    `${dir}: no model.safetensors or pytorch_model.bin (nor a sharded model.safetensors.index.json or pytorch_model.bin.index.json) next to config.json`
  )
}

function sharded(
  indexPath: string,
  format: CheckpointFormat
): { archive: TensorArchive; format: CheckpointFormat; files: string[] } {
  const archive = openShardedArchive(indexPath)
  return { archive, format, files: [indexPath, ...archive.shardPaths] }
}

/** The demo models' marker file (written by engine/library/demo-models.ts) sits beside their config. */
function demoMarkerName(dir: string): string | undefined {
  const marker = join(dir, 'demo.json')
  if (!existsSync(marker)) return undefined
  try {
    const m = JSON.parse(readFileSync(marker, 'utf8')) as { demo?: unknown; name?: unknown }
    return m.demo === true && typeof m.name === 'string' ? m.name : undefined
  } catch {
    return undefined
  }
}

/** `…/models--org--name/snapshots/<revision>` (the Hugging Face hub cache layout) → `org/name`. */
function hubRepoName(dir: string): string | undefined {
  if (basename(dirname(dir)) !== 'snapshots') return undefined
  const m = /^models--(.+)$/.exec(basename(dirname(dirname(dir))))
  return m ? m[1].split('--').join('/') : undefined
}

/** The name of a Hugging Face folder checkpoint: see `Esm2Checkpoint.name`. */
export function hfCheckpointName(dir: string, config: Record<string, unknown>): string {
  const nameOrPath = typeof config._name_or_path === 'string' ? config._name_or_path.trim() : ''
  // An absolute path there names a folder on the machine that saved the config (the published ESM2 configs
  // say "/tmp/facebook/…"), not this checkpoint.
  const named = nameOrPath !== '' && !/^([/\\~]|[A-Za-z]:)/.test(nameOrPath) ? nameOrPath : undefined
  return demoMarkerName(dir) ?? hubRepoName(dir) ?? named ?? basename(dir)
}

function openHfFolder(dir: string): Esm2Checkpoint {
  const configPath = join(dir, 'config.json')
  if (!existsSync(configPath))
    throw new Error(
      `${dir}: no config.json; a Hugging Face ESM2 folder holds config.json and model.safetensors (or pytorch_model.bin)`
    )
  let json: Record<string, unknown>
  try {
    json = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>
  } catch (e) {
    throw new Error(`${configPath}: not valid JSON (${(e as Error).message})`, { cause: e })
  }
  const config = parseHfEsmConfig(json, configPath)
  const vocab = join(dir, 'vocab.txt')
  if (existsSync(vocab)) checkVocabulary(readFileSync(vocab, 'utf8'), vocab)
  const { archive, format, files } = openHfWeights(dir)
  return checkpointOf(archive, () => ({
    source: dir,
    name: hfCheckpointName(dir, json),
    format,
    config,
    files: [configPath, ...files],
    params: renameParams(archive, hfName),
    checkedAs: archive.source
  }))
}

/**
 * The checkpoint `read` finds in an open archive, its parameters checked against its config (errors name
 * `checkedAs`); it closes the archive when closed, and at once when reading or checking fails.
 */
function checkpointOf(
  archive: { close(): void },
  read: () => Omit<Esm2Checkpoint, 'params' | 'hasLmHead' | 'close'> & {
    params: Map<string, StoredTensor>
    checkedAs: string
  }
): Esm2Checkpoint {
  try {
    const { checkedAs, ...checkpoint } = read()
    const hasLmHead = checkParams(checkpoint.params, checkpoint.config, checkedAs)
    return { ...checkpoint, hasLmHead, close: () => archive.close() }
  } catch (e) {
    archive.close()
    throw e
  }
}

/** A setting's value: a plain number/boolean, or an OmegaConf value node (`AnyNode` etc., whose value is `_val`). */
function settingValue(v: unknown): number | boolean | undefined {
  if (typeof v === 'number' || typeof v === 'boolean') return v
  if (v instanceof PickleObject) {
    const inner = attributesOf(v).get('_val')
    if (typeof inner === 'number' || typeof inner === 'boolean') return inner
  }
  return undefined
}

/** The keyed children of a pickled value: dict entries, list items, object attributes (tensors are leaves). */
function settingChildren(v: unknown): [unknown, unknown][] {
  if (v === null || typeof v !== 'object' || v instanceof TorchTensor || ArrayBuffer.isView(v)) return []
  if (v instanceof Map) return [...v.entries()]
  if (Array.isArray(v)) return v.map((x, i) => [i, x])
  if (v instanceof PickleObject) {
    const attrs = attributesOf(v)
    // OmegaConf DictConfig keeps its entries under `_content`
    const content = attrs.get('_content')
    return [...attrs.entries(), ...v.dictItems.entries(), ...(content instanceof Map ? content.entries() : [])]
  }
  return []
}

/**
 * Looks for `key` in the settings stored next to the weights (fairseq `cfg.model`, legacy `args`: a dict,
 * an argparse Namespace or an OmegaConf DictConfig), breadth-first so that the shallowest hit wins.
 */
function findSetting(root: unknown, key: string): number | boolean | undefined {
  let level: unknown[] = [root]
  for (let depth = 0; depth < 6 && level.length > 0; depth++) {
    const next: unknown[] = []
    for (const node of level) {
      for (const [k, v] of settingChildren(node)) {
        if (k === key) {
          const value = settingValue(v)
          if (value !== undefined) return value
        }
        next.push(v)
      }
    }
    level = next
  }
  return undefined
}

/** Parameters that only the pre-ESM2 fair-esm models have (learned/sinusoidal positions, ESM-1b's input LayerNorm, MSA Transformer). */
const NOT_ESM2 =
  /(^|\.)(embed_positions\.|emb_layer_norm_before\.|msa_position_embedding|row_self_attention\.|column_self_attention\.)/

function openFairEsm(file: string): Esm2Checkpoint {
  const archive = openTorchCheckpoint(file)
  return checkpointOf(archive, () => {
    const older = [...archive.tensors.keys()].find(n => NOT_ESM2.test(n))
    if (older) {
      throw new Error(
        `${file}: the checkpoint has "${older}", a parameter of ESM-1/ESM-1b/ESM-1v or the MSA Transformer; these models are not supported, ` +
          'only ESM2 (rotary positions, no input LayerNorm)'
      )
    }
    const params = renameParams(archive, fairName)
    const embed = params.get('embed')
    if (!embed) throw new Error(`${file}: no embed_tokens.weight; this is not a fair-esm ESM2 checkpoint`)
    const hiddenSize = embed.shape[1]
    let numLayers = 0
    for (const k of params.keys()) {
      const m = /^layer\.(\d+)\./.exec(k)
      if (m) numLayers = Math.max(numLayers, Number(m[1]) + 1)
    }
    const heads = findSetting(archive.root, 'encoder_attention_heads')
    const known = KNOWN_ESM2.find(k => k.numLayers === numLayers && k.hiddenSize === hiddenSize)
    const numHeads = typeof heads === 'number' ? heads : known?.numHeads
    if (!numHeads) {
      throw new Error(
        `${file}: the checkpoint does not say how many attention heads it has (no encoder_attention_heads in its cfg/args) and its size (${numLayers} layers × ${hiddenSize}) is not a published ESM2 model`
      )
    }
    const fc1 = params.get('layer.0.fc1.w')
    const config: Esm2Config = {
      numLayers,
      hiddenSize,
      numHeads,
      intermediateSize: fc1 ? fc1.shape[0] : 4 * hiddenSize,
      vocabSize: embed.shape[0],
      layerNormEps: 1e-5,
      tokenDropout: findSetting(archive.root, 'token_dropout') !== false,
      maskTokenId: 32,
      padTokenId: 1,
      maxPositionEmbeddings: 1026
    }
    validateConfig(config, file)
    return {
      source: file,
      name: basename(file).replace(/\.pth?$/, ''),
      format: 'fair-esm',
      config,
      files: [file],
      params,
      checkedAs: file
    }
  })
}

/** Opens a checkpoint folder (Hugging Face) or file (fair-esm `.pt`). */
export function openEsm2Checkpoint(path: string): Esm2Checkpoint {
  if (!existsSync(path))
    throw new Error(
      `${path}: no such file or folder; give a Hugging Face ESM2 folder (config.json + model.safetensors) or a fair-esm .pt file`
    )
  if (statSync(path).isDirectory()) return openHfFolder(path)
  const name = basename(path)
  if (name.endsWith('.pt') || name.endsWith('.pth')) return openFairEsm(path)
  if (
    name === 'model.safetensors' ||
    name === 'pytorch_model.bin' ||
    name === 'config.json' ||
    name.endsWith('.index.json') ||
    /-\d+-of-\d+\.(safetensors|bin)$/.test(name)
  ) {
    throw new Error(`${path}: give the folder that holds this file, not the file itself`)
  }
  throw new Error(`${path}: not a model folder or a .pt checkpoint`)
}
