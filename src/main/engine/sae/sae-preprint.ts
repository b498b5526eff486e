/**
 * The preprint's SAE ("Interpreting and Steering Protein Language Models through Sparse Autoencoders",
 * hub repository `evillegasgarcia/sae_esm2_6_l3`): a `PyTorchModelHubMixin` save of the `AutoEncoder` class
 * of github.com/edithvillegas/plm-sae (`sae/SAE_methods.py`, adapted from Neel Nanda's 1L-Sparse-Autoencoder).
 *
 *   <dir>/config.json          the constructor's `cfg`, flat or nested as {"cfg": {...}}: act_size (d_in),
 *                              dict_size (d_sae), layer, enc_dtype, device, l1_coeff, seed, ...
 *   <dir>/model.safetensors    (or pytorch_model.bin, a torch zip pickle of the state dict)
 * and its training saves (`save()` of the AutoEncoder, as in Neel Nanda's code): `<n>.pt` (the state dict,
 * torch.save) + `<n>_cfg.json` (the flat cfg); a folder of several such saves asks which one.
 *                              W_enc [d_in, d_sae], b_enc [d_sae], W_dec [d_sae, d_in], b_dec [d_in]
 *
 *   encode(x) = relu((x − b_dec) · W_enc + b_enc)        decode(f) = f · W_dec + b_dec
 *
 * Layer numbering. The preprint reads ESM2 with a forward hook on `model.esm.encoder.layer[3].output`
 * (README of edithvillegas/plm-sae; the repository name ends in `_l3`), and its config stores that block
 * index: `layer: 3`. In Hugging Face `EsmLayer`, the `output` submodule (EsmOutput) computes
 * `dense(intermediate) + attention_output`, i.e. the residual stream after block 3, which is
 * `hidden_states[4]` (hidden_states[0] is the embeddings, hidden_states[i + 1] the output of block i).
 * So our layer = cfg.layer + 1 = 4. (Caveat: for the LAST block, HF hidden_states[N] is taken after the
 * final LayerNorm, while the hook output is before it; an SAE trained on block N − 1 therefore does not
 * match any hidden_states row exactly; it is still mapped to N. The published SAE reads block 3 of 6, which
 * is unaffected.)
 */
import { existsSync, readFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { openSafetensors } from '../formats/safetensors'
import type { TensorArchive } from '../formats/tensor-archive'
import { openTorchCheckpoint } from '../formats/torch-checkpoint'
import {
  has,
  isDir,
  isFile,
  listDir,
  NOT_THIS,
  type SaeChoice,
  type SaeFormatProvider,
  type SaeProbe
} from './sae-provider'
import type { SaeWeights } from './sae-weights'
import { configInt, hashFiles, ones, readEncoderDecoder, ShapeContext } from './sae-tensors'

export const PREPRINT_WEIGHT_FILES = ['model.safetensors', 'pytorch_model.bin'] as const

export interface PreprintConfig {
  dIn: number | undefined
  dSae: number | undefined
  /** The config's `layer` (the encoder block index), as written. */
  block: number | undefined
}

/** The constructor config from config.json, flat or nested under "cfg". */
export function parsePreprintConfig(json: unknown, file: string): PreprintConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new Error(`${file}: expected a JSON object`)
  const outer = json as Record<string, unknown>
  const cfg = (typeof outer.cfg === 'object' && outer.cfg !== null ? outer.cfg : outer) as Record<string, unknown>
  if (cfg.act_size === undefined && cfg.dict_size === undefined) {
    const hint =
      outer.model_type !== undefined
        ? ` (it has model_type "${String(outer.model_type)}": this looks like a model folder, not an SAE)`
        : ''
    throw new Error(`${file}: not a preprint SAE config: it has neither "act_size" nor "dict_size"${hint}`)
  }
  return {
    dIn: configInt(cfg.act_size, 'act_size', file),
    dSae: configInt(cfg.dict_size, 'dict_size', file),
    block: configInt(cfg.layer, 'layer', file)
  }
}

function readConfig(configPath: string): PreprintConfig {
  let json: unknown
  try {
    json = JSON.parse(readFileSync(configPath, 'utf8'))
  } catch (e) {
    throw new Error(`${configPath}: cannot read the SAE config (${(e as Error).message})`, { cause: e })
  }
  return parsePreprintConfig(json, configPath)
}

/** `<n>_cfg.json` of a training save `<n>.pt`. */
function trainingConfigOf(ptFile: string): string {
  return ptFile.replace(/\.pt$/, '_cfg.json')
}

function trainingSaves(dir: string): SaeChoice[] {
  return listDir(dir)
    .filter(n => n.endsWith('.pt') && has(dir, n.replace(/\.pt$/, '_cfg.json')))
    .map(n => ({ path: join(dir, n), file: n }))
}

function configProbe(configPath: string, what: string): SaeProbe {
  try {
    const cfg = readConfig(configPath)
    return {
      confidence: 1,
      found: `${what} (act_size ${cfg.dIn ?? '?'}, dict_size ${cfg.dSae ?? '?'}, layer ${cfg.block ?? 'not given'})`
    }
  } catch (e) {
    return { confidence: 0.1, found: `${what}: ${(e as Error).message}` }
  }
}

export const preprintProvider: SaeFormatProvider = {
  id: 'preprint',
  name: 'Preprint (plm-sae)',
  origin: 'github.com/edithvillegas/plm-sae (hub evillegasgarcia/sae_esm2_6_l3)',
  files:
    '`config.json` (flat or nested `cfg`) + `model.safetensors` / `pytorch_model.bin`; training saves `<n>.pt` + `<n>_cfg.json`',
  architectures: 'ReLU, input centred on b_dec',
  hubFolder: names => (names.has('config.json') && PREPRINT_WEIGHT_FILES.some(f => names.has(f)) ? {} : undefined),
  probe(path: string): SaeProbe {
    if (isFile(path)) {
      if (path.endsWith('.pt') && isFile(trainingConfigOf(path)))
        return configProbe(trainingConfigOf(path), `${basename(path)} + ${basename(trainingConfigOf(path))}`)
      return NOT_THIS
    }
    if (!isDir(path)) return NOT_THIS
    const weights = PREPRINT_WEIGHT_FILES.find(f => has(path, f))
    if (has(path, 'config.json') && weights !== undefined)
      return configProbe(join(path, 'config.json'), `config.json + ${weights}`)
    const saves = trainingSaves(path)
    if (saves.length === 1) return configProbe(trainingConfigOf(saves[0].path), `${saves[0].file} + its _cfg.json`)
    if (saves.length > 1)
      return { confidence: 1, found: `training saves ${saves.map(c => c.file).join(', ')}`, choices: saves }
    return {
      confidence: 0,
      found: has(path, 'config.json')
        ? 'config.json without model.safetensors or pytorch_model.bin'
        : 'no config.json and no <n>.pt + <n>_cfg.json'
    }
  },
  load(path: string): SaeWeights {
    if (isFile(path)) return loadPreprintSae(path, trainingConfigOf(path))
    const saves = trainingSaves(path)
    if (!has(path, 'config.json') && saves.length === 1)
      return loadPreprintSae(saves[0].path, trainingConfigOf(saves[0].path))
    const weightFile = PREPRINT_WEIGHT_FILES.map(f => join(path, f)).find(p => existsSync(p))
    if (weightFile === undefined)
      throw new Error(`${path}: no ${PREPRINT_WEIGHT_FILES.join(' or ')} next to config.json`)
    return loadPreprintSae(weightFile, join(path, 'config.json'))
  }
}

export function loadPreprintSae(weightFile: string, configPath: string): SaeWeights {
  const cfg = readConfig(configPath)
  const archive: TensorArchive = weightFile.endsWith('.safetensors')
    ? openSafetensors(weightFile)
    : openTorchCheckpoint(weightFile)
  try {
    const ctx = new ShapeContext(
      archive,
      'preprint (W_enc/b_enc/W_dec/b_dec)',
      { d_in: cfg.dIn, d_sae: cfg.dSae },
      `${basename(configPath)} act_size/dict_size`
    )
    const tensors = readEncoderDecoder(ctx)
    const training = weightFile.endsWith('.pt')
    return {
      source: training ? weightFile : dirname(weightFile),
      format: 'preprint',
      architecture: training ? 'AutoEncoder (training save)' : 'AutoEncoder (hub save)',
      hash: hashFiles([weightFile, configPath]),
      name: training ? basename(weightFile) : basename(dirname(weightFile)),
      ...tensors,
      layer: cfg.block === undefined ? undefined : cfg.block + 1,
      activation: { kind: 'relu' },
      inputNorm: 'none',
      preBias: tensors.decBias.slice(),
      featureScale: ones(tensors.dSae)
    }
  } finally {
    archive.close()
  }
}
