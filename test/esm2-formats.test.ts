/**
 * ESM2 checkpoint formats other than HF safetensors: a Hugging Face folder with `pytorch_model.bin` (a
 * PyTorch zip pickle) and an original fair-esm `.pt` checkpoint (other parameter names, architecture in
 * `cfg`/`args`), each imported and run through ONNX Runtime and compared with the independent float64
 * reference; and the errors for what is not an ESM2 checkpoint, missing files and corrupt files.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  ESM2_TEMPLATE_DIR,
  ESM2_TOKENIZER_FILES,
  esm2Config,
  randomEsm2Weights,
  referenceConfigFor,
  type Esm2Shape,
  writeHfCheckpoint,
  type Esm2Weights
} from './fixtures/esm2-checkpoint'
import { roundToDType } from './fixtures/safetensors-writer'
import {
  namespace,
  orderedDict,
  view,
  writeTorchCheckpoint,
  type PyValue,
  type TensorInput
} from './fixtures/torch-writer'
import { randomProtein } from './helpers/compare'
import { tempDir } from './helpers/tmp'
import { importEsm2 } from '../src/main/engine/esm/esm2-import'
import { openEsm2Checkpoint } from '../src/main/engine/esm/esm2-checkpoint'
import { expectMatchesReference } from './helpers/esm2-check'

const tmp = tempDir('esmfmt')
afterAll(() => tmp.cleanup())

/** A shape no published ESM2 has, so that the head count must come from the checkpoint itself. */
const ODD: Esm2Shape = { layers: 2, hidden: 48, heads: 6, ffn: 96, vocab: 33, maxPositions: 1026 }

function tensor(t: { shape: number[]; data: Float32Array }, dtype: 'F32' | 'F16' = 'F32'): TensorInput {
  return { dtype, shape: [...t.shape], data: roundToDType(t.data, dtype) }
}

/** The weights as stored after rounding to `dtype`, for the reference. */
function rounded(weights: Esm2Weights, dtype: 'F32' | 'F16'): Esm2Weights {
  return new Map([...weights].map(([k, t]) => [k, { shape: t.shape, data: roundToDType(t.data, dtype) }]))
}

/**
 * `model.save_pretrained(dir, safe_serialization=False)`: config.json, the tokenizer files and
 * pytorch_model.bin holding the state dict (an OrderedDict with `_metadata`), in which the tied decoder
 * shares the word embeddings' storage.
 */
function writeHfPytorchFolder(
  dir: string,
  shape: Esm2Shape | '8M' | 'tiny',
  seed: number,
  dtype: 'F32' | 'F16' = 'F32'
): Esm2Weights {
  mkdirSync(dir, { recursive: true })
  const weights = randomEsm2Weights(shape, seed)
  const entries = new Map<PyValue, PyValue>()
  const embed = tensor(weights.get('esm.embeddings.word_embeddings.weight')!, dtype)
  for (const [name, t] of weights) {
    if (name === 'esm.embeddings.word_embeddings.weight') entries.set(name, embed)
    else if (name === 'lm_head.decoder.weight') entries.set(name, view(embed, { offset: 0, shape: embed.shape }))
    else entries.set(name, tensor(t, dtype))
  }
  writeTorchCheckpoint(join(dir, 'pytorch_model.bin'), orderedDict(entries, { _metadata: { '': { version: 1 } } }), {
    prefix: 'pytorch_model'
  })
  writeFileSync(join(dir, 'config.json'), JSON.stringify(esm2Config(shape, dtype), null, 2))
  for (const f of ESM2_TOKENIZER_FILES) copyFileSync(join(ESM2_TEMPLATE_DIR, f), join(dir, f))
  return rounded(weights, dtype)
}

/** HF name -> fair-esm state-dict name (as in `esm2_t6_8M_UR50D.pt`, before fair-esm's upgrade_state_dict). */
function fairEsmName(hf: string): string | undefined {
  const top: Record<string, string> = {
    'esm.embeddings.word_embeddings.weight': 'encoder.sentence_encoder.embed_tokens.weight',
    'esm.encoder.emb_layer_norm_after.weight': 'encoder.sentence_encoder.emb_layer_norm_after.weight',
    'esm.encoder.emb_layer_norm_after.bias': 'encoder.sentence_encoder.emb_layer_norm_after.bias',
    'esm.contact_head.regression.weight': 'encoder.sentence_encoder.contact_head.regression.weight',
    'esm.contact_head.regression.bias': 'encoder.sentence_encoder.contact_head.regression.bias',
    'lm_head.dense.weight': 'encoder.lm_head.dense.weight',
    'lm_head.dense.bias': 'encoder.lm_head.dense.bias',
    'lm_head.layer_norm.weight': 'encoder.lm_head.layer_norm.weight',
    'lm_head.layer_norm.bias': 'encoder.lm_head.layer_norm.bias',
    'lm_head.decoder.weight': 'encoder.lm_head.weight',
    'lm_head.bias': 'encoder.lm_head.bias'
  }
  if (top[hf]) return top[hf]
  const block: Record<string, string> = {
    'attention.self.query': 'self_attn.q_proj',
    'attention.self.key': 'self_attn.k_proj',
    'attention.self.value': 'self_attn.v_proj',
    'attention.self.rotary_embeddings': 'self_attn.rot_emb',
    'attention.output.dense': 'self_attn.out_proj',
    'attention.LayerNorm': 'self_attn_layer_norm',
    'intermediate.dense': 'fc1',
    'output.dense': 'fc2',
    LayerNorm: 'final_layer_norm'
  }
  const m = /^esm\.encoder\.layer\.(\d+)\.(.+)\.(weight|bias|inv_freq)$/.exec(hf)
  if (!m || !block[m[2]]) return undefined
  return `encoder.sentence_encoder.layers.${m[1]}.${block[m[2]]}.${m[3]}`
}

interface FairEsmOptions {
  /** How the architecture is stored: fairseq `cfg.model` namespace, legacy `args` namespace, or not at all. */
  settings: 'cfg' | 'args' | 'none'
  tokenDropout?: boolean
  /** Extra state-dict entries (fair-esm names), e.g. to make an ESM-1b lookalike. */
  extra?: Record<string, TensorInput>
}

/** An original fair-esm checkpoint: {model: state dict, cfg: {model: Namespace(...)}, ...}. */
function writeFairEsm(path: string, shape: Esm2Shape | '8M' | 'tiny', seed: number, opts: FairEsmOptions): Esm2Weights {
  const weights = randomEsm2Weights(shape, seed)
  const s = referenceConfigFor(shape)
  const model = new Map<PyValue, PyValue>()
  const embed = tensor(weights.get('esm.embeddings.word_embeddings.weight')!)
  for (const [name, t] of weights) {
    const fair = fairEsmName(name)
    if (!fair) throw new Error(`no fair-esm name for ${name}`)
    if (name === 'esm.embeddings.word_embeddings.weight') model.set(fair, embed)
    else if (name === 'lm_head.decoder.weight') model.set(fair, view(embed, { offset: 0, shape: embed.shape }))
    else model.set(fair, tensor(t))
  }
  for (const [k, t] of Object.entries(opts.extra ?? {})) model.set(k, t)
  const arch = namespace({
    _name: 'esm2',
    encoder_layers: s.layers,
    encoder_embed_dim: s.hidden,
    encoder_ffn_embed_dim: s.ffn,
    encoder_attention_heads: s.heads,
    token_dropout: opts.tokenDropout ?? true,
    dropout: 0.0
  })
  const root: Record<string, PyValue> = { model }
  if (opts.settings === 'cfg') root.cfg = { model: arch, task: namespace({ _name: 'masked_lm' }) }
  if (opts.settings === 'args') root.args = arch
  root.optimizer_history = []
  writeTorchCheckpoint(path, root, { prefix: 'archive' })
  return weights
}

async function checkAgainstReference(
  checkpoint: string,
  weights: Esm2Weights,
  refConfig: ReturnType<typeof referenceConfigFor>,
  sequences: string[]
) {
  const imported = await importEsm2(checkpoint, join(tmp.dir, 'cache'))
  await expectMatchesReference(imported, weights, refConfig, sequences)
  return imported
}

const SEQS = [
  randomProtein(41, 3),
  randomProtein(12, 4).slice(0, 6) + '<mask>' + randomProtein(20, 5),
  randomProtein(7, 6)
]

describe('Hugging Face pytorch_model.bin', () => {
  it('imports the 8M shape (tied decoder sharing the embeddings storage) and matches the reference', async () => {
    const dir = join(tmp.dir, 'hf-bin-8m')
    const weights = writeHfPytorchFolder(dir, '8M', 21)
    const imported = await checkAgainstReference(dir, weights, referenceConfigFor('8M'), [
      randomProtein(57, 1),
      randomProtein(30, 2) + '<mask>AC'
    ])
    expect(imported.format).toBe('hf-pytorch')
    // Named by its folder: the 8M shape alone does not make it esm2_t6_8M_UR50D.
    expect(imported.name).toBe('hf-bin-8m')
  })

  it('imports a float16 pytorch_model.bin of a small shape', async () => {
    const dir = join(tmp.dir, 'hf-bin-f16')
    const weights = writeHfPytorchFolder(dir, 'tiny', 22, 'F16')
    await checkAgainstReference(dir, weights, referenceConfigFor('tiny'), SEQS)
  })

  it('prefers model.safetensors when a folder holds both', () => {
    const dir = join(tmp.dir, 'hf-both')
    writeHfPytorchFolder(dir, 'tiny', 23)
    writeHfCheckpoint(dir, 'tiny', 24)
    const ckpt = openEsm2Checkpoint(dir)
    ckpt.close()
    expect(ckpt.format).toBe('hf-safetensors')
    expect(ckpt.files.map(f => f.split('/').pop())).toEqual(['config.json', 'model.safetensors'])
  })
})

describe('checkpoint names', () => {
  it('names a checkpoint by its demo marker, its _name_or_path, its hub repository or its folder, never by its shape', async () => {
    const withConfig = (dir: string, extra: Record<string, unknown>) => {
      writeHfCheckpoint(dir, '8M', 41)
      const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, ...extra }))
    }
    const nameOf = (dir: string) => {
      const ckpt = openEsm2Checkpoint(dir)
      ckpt.close()
      return ckpt.name
    }
    const plain = join(tmp.dir, 'names', 'my-finetune')
    withConfig(plain, {})
    expect(nameOf(plain)).toBe('my-finetune')
    const named = join(tmp.dir, 'names', 'named')
    withConfig(named, { _name_or_path: 'lab/esm2-8m-finetuned' })
    expect(nameOf(named)).toBe('lab/esm2-8m-finetuned')
    const savedElsewhere = join(tmp.dir, 'names', 'saved-elsewhere')
    withConfig(savedElsewhere, { _name_or_path: '/tmp/facebook/esm2_t6_8M_UR50D' })
    expect(nameOf(savedElsewhere)).toBe('saved-elsewhere')
    const demo = join(tmp.dir, 'names', 'demo')
    withConfig(demo, { _name_or_path: 'plm-sae-workbench/demo-esm2-random-weights' })
    writeFileSync(
      join(demo, 'demo.json'),
      JSON.stringify({ demo: true, kind: 'esm2', name: 'Demo ESM2 (random weights)' })
    )
    expect(nameOf(demo)).toBe('Demo ESM2 (random weights)')
    const hub = join(tmp.dir, 'names', 'hub', 'models--facebook--esm2_t6_8M_UR50D', 'snapshots', 'abc123')
    withConfig(hub, {})
    expect(nameOf(hub)).toBe('facebook/esm2_t6_8M_UR50D')
    // The model cache is keyed by content: the same bytes imported from another folder take that folder's name.
    const copy = join(tmp.dir, 'names', 'copy-of-demo')
    mkdirSync(copy, { recursive: true })
    for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(demo, f), join(copy, f))
    const cache = join(tmp.dir, 'names-cache')
    expect((await importEsm2(demo, cache)).name).toBe('Demo ESM2 (random weights)')
    expect((await importEsm2(copy, cache)).name).toBe('plm-sae-workbench/demo-esm2-random-weights')
  })
})

describe('fair-esm .pt checkpoints', () => {
  it('imports an 8M checkpoint whose architecture is in cfg.model and matches the reference', async () => {
    const path = join(tmp.dir, 'esm2_t6_8M_UR50D.pt')
    const weights = writeFairEsm(path, '8M', 31, { settings: 'cfg' })
    const imported = await checkAgainstReference(path, weights, referenceConfigFor('8M'), [
      randomProtein(48, 7),
      'MK<mask>' + randomProtein(25, 8)
    ])
    expect(imported.format).toBe('fair-esm')
    expect(imported.name).toBe('esm2_t6_8M_UR50D')
    expect(imported.config).toMatchObject({
      numLayers: 6,
      hiddenSize: 320,
      numHeads: 20,
      intermediateSize: 1280,
      tokenDropout: true
    })
  })

  it('reads the head count from a legacy args namespace for a shape no published model has', async () => {
    const path = join(tmp.dir, 'odd-args.pt')
    const weights = writeFairEsm(path, ODD, 32, { settings: 'args' })
    const imported = await checkAgainstReference(path, weights, referenceConfigFor(ODD), SEQS)
    expect(imported.config.numHeads).toBe(6)
  })

  it('honours token_dropout=false from the cfg', async () => {
    const path = join(tmp.dir, 'odd-nodropout.pt')
    const weights = writeFairEsm(path, ODD, 33, { settings: 'cfg', tokenDropout: false })
    await checkAgainstReference(path, weights, { ...referenceConfigFor(ODD), tokenDropout: false }, SEQS)
  })

  it('fills in the head count of a published size when the checkpoint has no cfg/args', async () => {
    const path = join(tmp.dir, 'bare-8m.pt')
    writeFairEsm(path, '8M', 34, { settings: 'none' })
    const ckpt = openEsm2Checkpoint(path)
    ckpt.close()
    expect(ckpt.config.numHeads).toBe(20)
  })

  it('refuses an unknown shape with no head count, saying what is missing', () => {
    const path = join(tmp.dir, 'odd-bare.pt')
    writeFairEsm(path, ODD, 35, { settings: 'none' })
    expect(() => openEsm2Checkpoint(path)).toThrow(/odd-bare\.pt.*encoder_attention_heads/)
  })
})

describe('errors', () => {
  it('refuses an ESM-1b style checkpoint (learned positions, emb_layer_norm_before)', () => {
    const path = join(tmp.dir, 'esm1b-like.pt')
    const H = 32
    writeFairEsm(path, 'tiny', 41, {
      settings: 'args',
      extra: {
        'encoder.sentence_encoder.embed_positions.weight': {
          dtype: 'F32',
          shape: [1026, H],
          data: new Float32Array(1026 * H)
        },
        'encoder.sentence_encoder.emb_layer_norm_before.weight': {
          dtype: 'F32',
          shape: [H],
          data: new Float32Array(H)
        },
        'encoder.sentence_encoder.emb_layer_norm_before.bias': { dtype: 'F32', shape: [H], data: new Float32Array(H) }
      }
    })
    expect(() => openEsm2Checkpoint(path)).toThrow(/esm1b-like\.pt.*ESM-1b.*not supported/)
  })

  it('refuses a .pt that holds some other model', () => {
    const path = join(tmp.dir, 'sae.pt')
    writeTorchCheckpoint(path, {
      encoder: { weight: { dtype: 'F32', shape: [8, 4], data: new Float32Array(32) } },
      k: 32
    })
    expect(() => openEsm2Checkpoint(path)).toThrow(/sae\.pt.*not a fair-esm ESM2 checkpoint/)
  })

  it('refuses a Hugging Face folder whose config is not ESM', () => {
    const dir = join(tmp.dir, 'bert')
    writeHfPytorchFolder(dir, 'tiny', 42)
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({ ...config, model_type: 'bert', architectures: ['BertForMaskedLM'] })
    )
    expect(() => openEsm2Checkpoint(dir)).toThrow(/config\.json.*model_type is "bert".*only ESM2/)
  })

  it('refuses a pytorch_model.bin whose tensors do not match the config', () => {
    const dir = join(tmp.dir, 'mismatch')
    writeHfPytorchFolder(dir, 'tiny', 43)
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, num_hidden_layers: 4 }))
    expect(() => openEsm2Checkpoint(dir)).toThrow(/pytorch_model\.bin.*no weights for layer\.3\..*4 layers/)
  })

  it('names a missing checkpoint and a folder without weights', async () => {
    await expect(importEsm2(join(tmp.dir, 'nope.pt'), join(tmp.dir, 'cache'))).rejects.toThrow(
      /nope\.pt: no such file or folder/
    )
    const dir = join(tmp.dir, 'config-only')
    mkdirSync(dir)
    writeFileSync(join(dir, 'config.json'), JSON.stringify(esm2Config('tiny')))
    expect(() => openEsm2Checkpoint(dir)).toThrow(/config-only: no model\.safetensors or pytorch_model\.bin/)
    const empty = join(tmp.dir, 'empty-folder')
    mkdirSync(empty)
    expect(() => openEsm2Checkpoint(empty)).toThrow(/empty-folder: no config\.json/)
  })

  it('gives a clear error for truncated and garbage checkpoint files', () => {
    const good = join(tmp.dir, 'good.pt')
    writeFairEsm(good, 'tiny', 44, { settings: 'args' })
    const bytes = readFileSync(good)
    const truncated = join(tmp.dir, 'truncated.pt')
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)))
    expect(() => openEsm2Checkpoint(truncated)).toThrow(/truncated\.pt.*(zip|corrupt|truncated)/i)
    const garbage = join(tmp.dir, 'garbage.pt')
    writeFileSync(garbage, Buffer.from('this is not a checkpoint at all\n'.repeat(20)))
    expect(() => openEsm2Checkpoint(garbage)).toThrow(/garbage\.pt.*(zip|checkpoint)/i)
    const dir = join(tmp.dir, 'hf-corrupt')
    writeHfPytorchFolder(dir, 'tiny', 45)
    const bin = readFileSync(join(dir, 'pytorch_model.bin'))
    writeFileSync(join(dir, 'pytorch_model.bin'), bin.subarray(0, bin.length - 200))
    expect(() => openEsm2Checkpoint(dir)).toThrow(/pytorch_model\.bin.*(zip|corrupt|truncated)/i)
    const badJson = join(tmp.dir, 'bad-json')
    writeHfPytorchFolder(badJson, 'tiny', 46)
    writeFileSync(join(badJson, 'config.json'), '{"model_type": "esm", ')
    expect(() => openEsm2Checkpoint(badJson)).toThrow(/config\.json: not valid JSON/)
  })
})
