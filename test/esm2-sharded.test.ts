/**
 * Sharded Hugging Face checkpoints (how ESM2 3B and 15B are published): `model.safetensors.index.json` or
 * `pytorch_model.bin.index.json` + the shard files its weight_map names. Random-weight checkpoints of a
 * small shape are split into shards in both formats, imported, run through ONNX Runtime and compared with
 * the independent float64 reference; a broken index, a missing shard and a tensor missing from its shard
 * are clear errors; the cache key covers every shard; the model library fetches the index and one set of
 * shards from a (fake) hub.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import {
  ESM2_TEMPLATE_DIR,
  ESM2_TOKENIZER_FILES,
  esm2Config,
  randomEsm2Weights,
  referenceConfigFor,
  writeHfCheckpoint,
  type Esm2Weights
} from './fixtures/esm2-checkpoint'
import { writeSafetensors, type SafetensorsTensor } from './fixtures/safetensors-writer'
import { orderedDict, writeTorchCheckpoint, type PyValue } from './fixtures/torch-writer'
import { filesFromFolder, startFakeHub, type FakeHub } from './fixtures/fake-hub'
import { randomProtein } from './helpers/compare'
import { tempDir } from './helpers/tmp'
import { importEsm2, type ImportedEsm2 } from '../src/main/engine/esm/esm2-import'
import { openEsm2Checkpoint } from '../src/main/engine/esm/esm2-checkpoint'
import { openShardedArchive } from '../src/main/engine/formats/sharded-archive'
import { ModelLibrary } from '../src/main/engine/library/model-library'
import { CATALOGUE } from '../src/main/engine/library/catalogue'
import { hubSettings } from '../src/main/engine/hub/hub-api'
import { expectMatchesReference } from './helpers/esm2-check'

const tmp = tempDir('esmshard')
afterAll(() => tmp.cleanup())
const cache = join(tmp.dir, 'cache')

type ShardFormat = 'safetensors' | 'pytorch'

interface ShardedFolder {
  dir: string
  /** All weights under their HF names (the tied decoder included), for the reference. */
  weights: Esm2Weights
  index: string
  shards: string[]
  /** Tensor names by shard file. */
  groups: Map<string, string[]>
}

const NAMES = { safetensors: { stem: 'model', ext: 'safetensors' }, pytorch: { stem: 'pytorch_model', ext: 'bin' } }

function shardName(format: ShardFormat, k: number, n: number): string {
  const pad = (x: number) => String(x).padStart(5, '0')
  return `${NAMES[format].stem}-${pad(k)}-of-${pad(n)}.${NAMES[format].ext}`
}

/** Writes one shard holding `names` (a state dict of F32 tensors), as save_pretrained does. */
function writeShard(path: string, format: ShardFormat, weights: Esm2Weights, names: string[]): void {
  if (format === 'safetensors') {
    const tensors: Record<string, SafetensorsTensor> = {}
    for (const n of names) tensors[n] = { dtype: 'F32', shape: [...weights.get(n)!.shape], data: weights.get(n)!.data }
    writeSafetensors(path, tensors, { format: 'pt' })
  } else {
    const entries = new Map<PyValue, PyValue>()
    for (const n of names)
      entries.set(n, { dtype: 'F32', shape: [...weights.get(n)!.shape], data: weights.get(n)!.data })
    const prefix = path
      .split('/')
      .pop()!
      .replace(/\.bin$/, '')
    writeTorchCheckpoint(path, orderedDict(entries, { _metadata: { '': { version: 1 } } }), { prefix })
  }
}

/**
 * `save_pretrained(dir, max_shard_size=...)` of a tiny random ESM2: config, tokenizer files, `n` shards
 * (tensors in state-dict order, split into contiguous groups) and the index. Safetensors saves drop the
 * tied decoder (it shares the embeddings); pickled shards keep it as its own tensor.
 */
function writeSharded(dir: string, format: ShardFormat, n: number, seed: number): ShardedFolder {
  mkdirSync(dir, { recursive: true })
  const weights = randomEsm2Weights('tiny', seed)
  const names = [...weights.keys()].filter(k => format === 'pytorch' || k !== 'lm_head.decoder.weight')
  const groups = new Map<string, string[]>()
  const per = Math.ceil(names.length / n)
  for (let k = 0; k < n; k++) groups.set(shardName(format, k + 1, n), names.slice(k * per, (k + 1) * per))
  const weightMap: Record<string, string> = {}
  let totalSize = 0
  for (const [shard, group] of groups) {
    writeShard(join(dir, shard), format, weights, group)
    for (const name of group) {
      weightMap[name] = shard
      totalSize += weights.get(name)!.data.length * 4
    }
  }
  const index = join(dir, `${NAMES[format].stem}.${NAMES[format].ext}.index.json`)
  writeFileSync(index, JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2))
  writeFileSync(join(dir, 'config.json'), JSON.stringify(esm2Config('tiny'), null, 2))
  for (const f of ESM2_TOKENIZER_FILES) copyFileSync(join(ESM2_TEMPLATE_DIR, f), join(dir, f))
  return { dir, weights, index, shards: [...groups.keys()], groups }
}

const SEQS = [randomProtein(37, 11), randomProtein(9, 12) + '<mask>' + randomProtein(14, 13), randomProtein(5, 14)]

function checkAgainstReference(imported: ImportedEsm2, weights: Esm2Weights): Promise<void> {
  return expectMatchesReference(imported, weights, referenceConfigFor('tiny'), SEQS)
}

describe('sharded checkpoints import and match the reference', () => {
  it('imports 3 safetensors shards (tied decoder left out) and matches the reference forward', async () => {
    const f = writeSharded(join(tmp.dir, 'st3'), 'safetensors', 3, 31)
    const ckpt = openEsm2Checkpoint(f.dir)
    try {
      expect(ckpt.format).toBe('hf-safetensors-sharded')
      expect(ckpt.files).toEqual([join(f.dir, 'config.json'), f.index, ...f.shards.map(s => join(f.dir, s))])
      expect(ckpt.config).toMatchObject({ numLayers: 3, hiddenSize: 32, numHeads: 4 })
    } finally {
      ckpt.close()
    }
    const imported = await importEsm2(f.dir, cache)
    expect(imported.format).toBe('hf-safetensors-sharded')
    await checkAgainstReference(imported, f.weights)
  })

  it('imports 2 pytorch_model-*.bin shards and matches the reference forward', async () => {
    const f = writeSharded(join(tmp.dir, 'bin2'), 'pytorch', 2, 32)
    const imported = await importEsm2(f.dir, cache)
    expect(imported.format).toBe('hf-pytorch-sharded')
    await checkAgainstReference(imported, f.weights)
  })

  it('writes the same weights.bin as the unsharded save of the same model', async () => {
    const single = join(tmp.dir, 'single33')
    writeHfCheckpoint(single, 'tiny', 33, { omitTiedDecoder: true })
    const f = writeSharded(join(tmp.dir, 'st2-33'), 'safetensors', 2, 33)
    const a = await importEsm2(single, cache)
    const b = await importEsm2(f.dir, cache)
    expect(b.hash).not.toBe(a.hash)
    expect(b.weights).toEqual(a.weights)
    expect(readFileSync(b.weightsFile).equals(readFileSync(a.weightsFile))).toBe(true)
  })

  it('prefers the safetensors shards when a folder holds both shard sets', () => {
    const dir = join(tmp.dir, 'both')
    const st = writeSharded(dir, 'safetensors', 2, 34)
    writeSharded(dir, 'pytorch', 3, 35)
    const ckpt = openEsm2Checkpoint(dir)
    try {
      expect(ckpt.format).toBe('hf-safetensors-sharded')
      expect(ckpt.files.slice(1)).toEqual([st.index, ...st.shards.map(s => join(dir, s))])
      expect(ckpt.files.some(p => p.endsWith('.bin'))).toBe(false)
      // The weights are those of the safetensors shards (seed 34), not the .bin ones (seed 35).
      expect(ckpt.params.get('embed')!.readFloat32()).toEqual(
        st.weights.get('esm.embeddings.word_embeddings.weight')!.data
      )
    } finally {
      ckpt.close()
    }
  })

  it('close() closes every shard', () => {
    const f = writeSharded(join(tmp.dir, 'close'), 'safetensors', 3, 36)
    const archive = openShardedArchive(f.index)
    const lastName = f.groups.get(f.shards[2])![0]
    const first = archive.tensors.get(f.groups.get(f.shards[0])![0])!
    const last = archive.tensors.get(lastName)!
    expect(archive.shardPaths).toEqual(f.shards.map(s => join(f.dir, s)))
    expect(archive.index.totalSize).toBeGreaterThan(0)
    expect(last.readFloat32()).toEqual(f.weights.get(lastName)!.data)
    archive.close()
    expect(() => first.readFloat32()).toThrow(/EBADF|bad file descriptor/i)
    expect(() => last.readFloat32()).toThrow(/EBADF|bad file descriptor/i)
  })
})

describe('errors for broken sharded checkpoints', () => {
  let base: ShardedFolder
  beforeAll(() => {
    base = writeSharded(join(tmp.dir, 'err-base'), 'safetensors', 3, 40)
  })

  /** A copy of the base folder to break. */
  function copyOf(name: string): ShardedFolder {
    const dir = join(tmp.dir, name)
    mkdirSync(dir, { recursive: true })
    for (const f of ['config.json', 'model.safetensors.index.json', ...base.shards, ...ESM2_TOKENIZER_FILES])
      copyFileSync(join(base.dir, f), join(dir, f))
    return { ...base, dir, index: join(dir, 'model.safetensors.index.json') }
  }

  it('names the missing shard file and the index that lists it', async () => {
    const f = copyOf('missing-shard')
    rmSync(join(f.dir, f.shards[1]))
    await expect(importEsm2(f.dir, cache)).rejects.toThrow(
      new RegExp(
        `model\\.safetensors\\.index\\.json: 1 of the 3 shard files it lists is missing from .*: ${f.shards[1]} \\(\\d+ tensors\\); download the missing shards`
      )
    )
  })

  it('names a tensor the index places in a shard that does not hold it', () => {
    const f = copyOf('missing-tensor')
    const group = f.groups.get(f.shards[0])!
    writeShard(join(f.dir, f.shards[0]), 'safetensors', f.weights, group.slice(1))
    expect(() => openEsm2Checkpoint(f.dir)).toThrow(
      `${join(f.dir, f.shards[0])}: has no tensor "${group[0]}", which model.safetensors.index.json places in this shard; the shard and the index come from different saves or downloads`
    )
  })

  it('says where a tensor is when the index puts it in the wrong shard', () => {
    const f = copyOf('wrong-shard')
    const index = JSON.parse(readFileSync(f.index, 'utf8')) as { weight_map: Record<string, string> }
    const moved = f.groups.get(f.shards[2])![0]
    index.weight_map[moved] = f.shards[0]
    writeFileSync(f.index, JSON.stringify(index))
    expect(() => openEsm2Checkpoint(f.dir)).toThrow(
      new RegExp(`${f.shards[0]}: has no tensor "${moved.replace(/\./g, '\\.')}".*\\(it is in ${f.shards[2]}\\)`)
    )
  })

  it('refuses a truncated, garbled or incomplete index', () => {
    const f = copyOf('bad-index')
    const text = readFileSync(f.index, 'utf8')
    writeFileSync(f.index, text.slice(0, Math.floor(text.length / 2)))
    expect(() => openEsm2Checkpoint(f.dir)).toThrow(
      /model\.safetensors\.index\.json: not valid JSON \(.*\); the file is truncated or corrupt; download it again/
    )
    writeFileSync(f.index, JSON.stringify({ metadata: { total_size: 1 } }))
    expect(() => openEsm2Checkpoint(f.dir)).toThrow(/model\.safetensors\.index\.json: no "weight_map" object/)
    writeFileSync(f.index, JSON.stringify({ weight_map: {} }))
    expect(() => openEsm2Checkpoint(f.dir)).toThrow(/the weight_map is empty/)
    writeFileSync(f.index, JSON.stringify({ weight_map: { 'esm.embeddings.word_embeddings.weight': 7 } }))
    expect(() => openEsm2Checkpoint(f.dir)).toThrow(
      /weight_map\["esm\.embeddings\.word_embeddings\.weight"\] is 7, not a shard file name/
    )
    writeFileSync(
      f.index,
      JSON.stringify({
        weight_map: { 'esm.embeddings.word_embeddings.weight': '../elsewhere/model-00001-of-00001.safetensors' }
      })
    )
    expect(() => openEsm2Checkpoint(f.dir)).toThrow(
      /names "\.\.\/elsewhere\/model-00001-of-00001\.safetensors", which is not a file in the index's folder/
    )
    // An index that leaves out a layer: the checkpoint is incomplete, named by its index.
    const full = JSON.parse(text) as { weight_map: Record<string, string> }
    const partial = Object.fromEntries(
      Object.entries(full.weight_map).filter(([k]) => !k.startsWith('esm.encoder.layer.2.'))
    )
    writeFileSync(f.index, JSON.stringify({ weight_map: partial }))
    expect(() => openEsm2Checkpoint(f.dir)).toThrow(
      `${f.index}: the checkpoint has no weights for layer.2.q.w (config says 3 layers of width 32)`
    )
  })

  it('refuses a missing pytorch_model shard too, and asks for the folder when given a shard or the index', () => {
    const f = writeSharded(join(tmp.dir, 'bin-missing'), 'pytorch', 2, 41)
    expect(() => openEsm2Checkpoint(f.index)).toThrow(/give the folder that holds this file/)
    expect(() => openEsm2Checkpoint(join(f.dir, f.shards[0]))).toThrow(/give the folder that holds this file/)
    rmSync(join(f.dir, f.shards[0]))
    expect(() => openEsm2Checkpoint(f.dir)).toThrow(
      /pytorch_model\.bin\.index\.json: 1 of the 2 shard files it lists is missing .*pytorch_model-00001-of-00002\.bin/
    )
  })
})

describe('the cache key covers the config, the index and every shard', () => {
  it('reuses the entry while nothing changes, and makes a new one when a shard or the index changes', async () => {
    const f = writeSharded(join(tmp.dir, 'hash'), 'safetensors', 3, 50)
    const hashCache = join(tmp.dir, 'hash-cache')
    const first = await importEsm2(f.dir, hashCache)
    const again = await importEsm2(f.dir, hashCache)
    expect(again.hash).toBe(first.hash)
    expect(again.dir).toBe(first.dir)
    // Change one value in the last shard: same size, other content.
    const name = f.groups.get(f.shards[2])!.find(n => n.endsWith('.bias'))!
    const changed = new Map(f.weights)
    const data = f.weights.get(name)!.data.slice()
    data[0] += 0.5
    changed.set(name, { shape: f.weights.get(name)!.shape, data })
    writeShard(join(f.dir, f.shards[2]), 'safetensors', changed, f.groups.get(f.shards[2])!)
    const afterShard = await importEsm2(f.dir, hashCache)
    expect(afterShard.hash).not.toBe(first.hash)
    expect(afterShard.dir).not.toBe(first.dir)
    // The same index written with other whitespace: a different file, a different key.
    writeFileSync(f.index, JSON.stringify(JSON.parse(readFileSync(f.index, 'utf8'))))
    const afterIndex = await importEsm2(f.dir, hashCache)
    expect(new Set([first.hash, afterShard.hash, afterIndex.hash]).size).toBe(3)
    expect(afterIndex.weights).toEqual(afterShard.weights)
  })
})

describe('the model library fetches sharded repositories', () => {
  let hub: FakeHub
  let st: ShardedFolder
  beforeAll(async () => {
    const dir = join(tmp.dir, 'hub-3b')
    st = writeSharded(dir, 'safetensors', 3, 60)
    writeSharded(dir, 'pytorch', 2, 60)
    const bins = writeSharded(join(tmp.dir, 'hub-bin-only'), 'pytorch', 2, 61)
    hub = await startFakeHub()
    // Plays facebook/esm2_t36_3B_UR50D with a tiny checkpoint in its layout: both shard sets and TF shards.
    hub.addRepo({
      id: 'facebook/esm2_t36_3B_UR50D',
      files: [
        ...filesFromFolder(dir),
        { path: 'tf_model.h5.index.json', content: Buffer.from('{"weight_map": {}}') },
        { path: 'tf_model-00001-of-00002.h5', content: randomBytes(2000) },
        { path: 'tf_model-00002-of-00002.h5', content: randomBytes(2000) },
        { path: 'README.md', content: Buffer.from('# ESM2 3B') }
      ]
    })
    hub.addRepo({ id: 'someone/esm-bin-shards', files: filesFromFolder(bins.dir) })
  })
  afterAll(async () => {
    await hub.close()
  })

  function library(): ModelLibrary {
    const dataDir = join(tmp.dir, `lib-${Math.random().toString(36).slice(2)}`)
    mkdirSync(dataDir, { recursive: true })
    return new ModelLibrary({ dataDir, hub: hubSettings({ HF_ENDPOINT: hub.url }) })
  }

  it('lists ESM2 3B in the catalogue', () => {
    const e = CATALOGUE.find(c => c.repo === 'facebook/esm2_t36_3B_UR50D')
    expect(e).toMatchObject({ kind: 'esm2', numLayers: 36, hiddenSize: 2560 })
    expect(e!.expectedBytes).toBeGreaterThan(10e9)
  })

  it('downloads the safetensors index and shards only, ready to import', async () => {
    const lib = library()
    const e = await lib.download('hub:facebook/esm2_t36_3B_UR50D')
    expect(e.status).toBe('ready')
    const fetched = hub.requestsTo('/facebook/esm2_t36_3B_UR50D/resolve/').map(q => q.url.split('/').pop()!)
    expect([...new Set(fetched)].sort()).toEqual(
      [
        'config.json',
        'model.safetensors.index.json',
        ...st.shards,
        'special_tokens_map.json',
        'tokenizer_config.json',
        'vocab.txt'
      ].sort()
    )
    const imported = await importEsm2(e.localPath!, cache)
    expect(imported.format).toBe('hf-safetensors-sharded')
    await checkAgainstReference(imported, st.weights)
  })

  it('downloads the pytorch_model index and shards of a repository without safetensors', async () => {
    const lib = library()
    lib.add({ kind: 'esm2', source: 'hub', repo: 'someone/esm-bin-shards' })
    const e = await lib.download('hub:someone/esm-bin-shards')
    expect(e.status).toBe('ready')
    const fetched = hub.requestsTo('/someone/esm-bin-shards/resolve/').map(q => q.url.split('/').pop()!)
    expect(fetched.filter(p => /\.bin|index/.test(p)).sort()).toEqual([
      'pytorch_model-00001-of-00002.bin',
      'pytorch_model-00002-of-00002.bin',
      'pytorch_model.bin.index.json'
    ])
  })

  it('reports a local folder whose index lists a shard that is not there', () => {
    const lib = library()
    const f = writeSharded(join(tmp.dir, 'local-missing'), 'safetensors', 3, 62)
    rmSync(join(f.dir, f.shards[1]))
    expect(() => lib.add({ kind: 'esm2', source: 'local', path: f.dir })).toThrow(
      `lacks ${f.shards[1]} (shards listed in model.safetensors.index.json)`
    )
    const ok = writeSharded(join(tmp.dir, 'local-ok'), 'safetensors', 2, 63)
    expect(lib.add({ kind: 'esm2', source: 'local', path: ok.dir })).toMatchObject({
      status: 'ready',
      localPath: ok.dir
    })
  })
})
