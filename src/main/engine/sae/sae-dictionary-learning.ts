/**
 * dictionary_learning saves (github.com/saprmarks/dictionary_learning, `training.py` trainSAE): a trainer
 * folder holding `ae.pt` (the dictionary's state dict, torch.save) + `config.json`
 * ({"trainer": {"dict_class", "activation_dim", "dict_size", "k", "layer", "lm_name", "submodule_name", …},
 * "buffer": {…}}); a run folder holds `trainer_0/`, `trainer_1/`, … (a choice). Also PyTorch Lightning
 * checkpoints (`.ckpt`, a torch zip pickle of {"state_dict": {<prefix>.<tensor>: …}, "hyper_parameters": {…}}),
 * as Matryoshka BatchTopK trainings (e.g. Reticular's SAEFold on ESM2-3B) write them: the prefix is found from
 * the tensor names, k from the state dict or the hyper-parameters.
 *
 * The classes and their formulas are in sae-dictionary.ts (AutoEncoder = ReLUSAE, AutoEncoderTopK = TopKSAE,
 * BatchTopKSAE, JumpReluAutoEncoder = JumpReLU with W_enc/W_dec names, MatryoshkaBatchTopKSAE); BatchTopK and
 * Matryoshka SAEs encode with their inference threshold (`use_threshold=True`, the default of their encode).
 *
 * Layer: `trainer.layer` is the block whose output the SAE read (`model.esm.encoder.layer[layer]` in nnsight),
 * i.e. hidden_states[layer + 1]; Lightning checkpoints give it as hyper-parameter `layer` (same meaning).
 */
import { readFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { PickleObject, attributesOf } from '../formats/pickle'
import { openTorchCheckpoint } from '../formats/torch-checkpoint'
import {
  DICTIONARY_TENSORS,
  dictionaryClassOf,
  readDictionary,
  withPrefix,
  type DictionaryClass
} from './sae-dictionary'
import { has, isDir, isFile, listDir, NOT_THIS, peekTensors, tensorSummary } from './sae-provider'
import type { SaeChoice, SaeFormatProvider, SaeProbe } from './sae-provider'
import type { SaeWeights } from './sae-weights'
import { hashFiles } from './sae-tensors'

const ANCHORS = ['encoder.weight', 'W_enc']

/** A pickled mapping (dict, OrderedDict, AttributeDict, Namespace) as a plain record. */
function record(value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const add = (m: ReadonlyMap<unknown, unknown>): void => {
    for (const [k, v] of m) if (typeof k === 'string') out[k] = v
  }
  if (value instanceof Map) add(value)
  if (value instanceof PickleObject) {
    add(value.dictItems)
    add(attributesOf(value))
  }
  return out
}

function positiveInt(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined
}

/** The prefix of the state dict inside a Lightning checkpoint's tensors, and its class. */
function findStateDict(
  names: ReadonlySet<string>,
  batchHint: boolean
): { prefix: string; cls: DictionaryClass } | undefined {
  const prefixes = new Set<string>()
  for (const n of names) for (const a of ANCHORS) if (n.endsWith(a)) prefixes.add(n.slice(0, n.length - a.length))
  for (const prefix of [...prefixes].sort((a, b) => a.length - b.length)) {
    const inner = new Set([...names].filter(n => n.startsWith(prefix)).map(n => n.slice(prefix.length)))
    const cls = dictionaryClassOf(inner, batchHint)
    if (cls) return { prefix, cls }
  }
  return undefined
}

function readTrainerConfig(dir: string): Record<string, unknown> {
  const p = join(dir, 'config.json')
  try {
    const json = JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>
    return typeof json.trainer === 'object' && json.trainer !== null ? (json.trainer as Record<string, unknown>) : {}
  } catch (e) {
    throw new Error(`${p}: cannot read the dictionary_learning config (${(e as Error).message})`, { cause: e })
  }
}

function isTrainerDir(dir: string): boolean {
  return has(dir, 'ae.pt') && has(dir, 'config.json')
}

function choicesIn(dir: string): SaeChoice[] {
  const trainers = listDir(dir)
    .filter(n => isDir(join(dir, n)) && isTrainerDir(join(dir, n)))
    .map(n => ({ path: join(dir, n), file: n }))
  const ckpts = listDir(dir)
    .filter(n => n.endsWith('.ckpt'))
    .map(n => ({ path: join(dir, n), file: n }))
  return [...trainers, ...ckpts]
}

function probeCkpt(file: string): SaeProbe {
  const { tensors, error, found } = peekTensors(file)
  if (tensors === undefined) return { confidence: 0, found: `${basename(file)}: ${error}` }
  const sd = findStateDict(new Set(tensors.keys()), false)
  return {
    confidence: sd ? 1 : 0,
    found: `${basename(file)}: ${found}${sd ? ` (${sd.cls} under "${sd.prefix}")` : ''}`
  }
}

export const dictionaryLearningProvider: SaeFormatProvider = {
  id: 'dictionary-learning',
  name: 'dictionary_learning / Matryoshka',
  origin: 'github.com/saprmarks/dictionary_learning',
  files: '`ae.pt` + `config.json` (trainer folders), or a Lightning `.ckpt`',
  architectures: 'AutoEncoder (ReLU), TopK, BatchTopK, JumpReLU, Matryoshka BatchTopK (inference threshold)',
  hubFolder: names => (names.has('ae.pt') && names.has('config.json') ? {} : undefined),
  probe(path: string): SaeProbe {
    if (isFile(path)) {
      if (path.endsWith('.ckpt')) return probeCkpt(path)
      if (basename(path) === 'ae.pt' && has(dirname(path), 'config.json'))
        return dictionaryLearningProvider.probe(dirname(path))
      return NOT_THIS
    }
    if (!isDir(path)) return NOT_THIS
    if (isTrainerDir(path)) {
      const { tensors, error, found } = peekTensors(join(path, 'ae.pt'))
      if (tensors === undefined) return { confidence: 0.5, found: `ae.pt: ${error}` }
      let dictClass: string
      try {
        dictClass = String(readTrainerConfig(path).dict_class ?? '?')
      } catch (e) {
        return { confidence: 0.5, found: (e as Error).message }
      }
      const cls = dictionaryClassOf(tensors, /batch/i.test(dictClass))
      return {
        confidence: cls ? 1 : 0.3,
        found: `ae.pt + config.json (dict_class ${dictClass}): ${found}`
      }
    }
    const choices = choicesIn(path)
    if (choices.length === 1) return dictionaryLearningProvider.probe(choices[0].path)
    if (choices.length > 1) return { confidence: 0.9, found: `${choices.map(c => c.file).join(', ')}`, choices }
    return { confidence: 0, found: 'no ae.pt + config.json, trainer_N folders or .ckpt files' }
  },
  load(path: string): SaeWeights {
    if (isFile(path) && path.endsWith('.ckpt')) return loadLightningCheckpoint(path)
    const dir = isFile(path) ? dirname(path) : path
    if (isTrainerDir(dir)) return loadTrainerDir(dir)
    const only = choicesIn(dir)[0]
    if (only === undefined) throw new Error(`${path}: no ae.pt + config.json or .ckpt here`)
    return dictionaryLearningProvider.load(only.path, {})
  }
}

function loadTrainerDir(dir: string): SaeWeights {
  const trainer = readTrainerConfig(dir)
  const file = join(dir, 'ae.pt')
  const ckpt = openTorchCheckpoint(file)
  try {
    const dictClass = typeof trainer.dict_class === 'string' ? trainer.dict_class : ''
    const cls = dictionaryClassOf(ckpt.tensors, /batch/i.test(dictClass))
    if (cls === undefined)
      throw new Error(
        `${file}: not one of dictionary_learning's classes (config says ${dictClass || 'no dict_class'}); it holds ${tensorSummary(ckpt.tensors)}; they need ${DICTIONARY_TENSORS}`
      )
    const parts = readDictionary(ckpt, cls, {
      normalizedForm: false,
      formatName: 'dictionary_learning',
      k: positiveInt(trainer.k)
    })
    const layer = positiveInt(trainer.layer)
    return {
      ...parts,
      architecture: `dictionary_learning ${dictClass || cls}`,
      source: dir,
      format: 'dictionary-learning',
      hash: hashFiles([file, join(dir, 'config.json')]),
      name: `${basename(dirname(dir))}/${basename(dir)}`,
      layer: layer === undefined ? undefined : layer + 1,
      notes: layer === undefined ? undefined : [`config trainer.layer ${layer} (block output) = layer ${layer + 1}`]
    }
  } finally {
    ckpt.close()
  }
}

function loadLightningCheckpoint(file: string): SaeWeights {
  const ckpt = openTorchCheckpoint(file)
  try {
    const hp = record(record(ckpt.root).hyper_parameters)
    const batchHint = /batch/i.test(JSON.stringify(Object.values(hp).filter(v => typeof v === 'string')))
    const sd = findStateDict(new Set(ckpt.tensors.keys()), batchHint)
    if (sd === undefined)
      throw new Error(
        `${file}: no SAE state dict found in this checkpoint; it holds ${tensorSummary(ckpt.tensors)}; dictionary_learning classes need ${DICTIONARY_TENSORS}`
      )
    const k = positiveInt(hp.k) ?? positiveInt(hp.top_k)
    const parts = readDictionary(withPrefix(ckpt, sd.prefix), sd.cls, {
      normalizedForm: false,
      formatName: 'Lightning checkpoint',
      k
    })
    const layer = positiveInt(hp.layer)
    return {
      ...parts,
      architecture: `${sd.cls} (Lightning checkpoint)`,
      source: file,
      format: 'dictionary-learning',
      hash: hashFiles([file]),
      name: basename(file),
      layer: layer === undefined ? undefined : layer + 1,
      notes: [
        `state dict under "${sd.prefix}"`,
        ...(layer === undefined ? [] : [`hyper-parameter layer ${layer} (block output) = layer ${layer + 1}`])
      ]
    }
  } finally {
    ckpt.close()
  }
}
