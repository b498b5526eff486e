/**
 * Sharded checkpoints, as Hugging Face `save_pretrained` writes models over its shard size (ESM2 3B, 15B):
 * an index `model.safetensors.index.json` (or `pytorch_model.bin.index.json`)
 *
 *   {"metadata": {"total_size": 11361820160}, "weight_map": {"<tensor name>": "model-00001-of-00002.safetensors", ...}}
 *
 * next to the shard files it names, each an ordinary safetensors file or PyTorch zip pickle holding part of
 * the state dict. `openShardedArchive` checks the index against the shards (every shard present, every
 * tensor in the shard the index names) and presents all of them as one `TensorArchive`; tensors stay lazy,
 * so a model of any size is read one tensor at a time.
 */
import { existsSync, readFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { openSafetensors } from './safetensors'
import type { StoredTensor, TensorArchive } from './tensor-archive'
import { openTorchCheckpoint } from './torch-checkpoint'

/** Index file names, in the order Hugging Face prefers them: safetensors shards before pickled ones. */
export const SHARD_INDEX_FILES = ['model.safetensors.index.json', 'pytorch_model.bin.index.json'] as const

export interface ShardIndex {
  /** The index file. */
  readonly path: string
  /** `metadata.total_size` when given: bytes of tensor data over all shards (informative only). */
  readonly totalSize?: number
  /** Tensor name -> shard file name (in the index's folder). */
  readonly weightMap: ReadonlyMap<string, string>
  /** The distinct shard file names, sorted (model-00001-of-00003..., as written). */
  readonly shards: readonly string[]
}

export interface ShardedArchive extends TensorArchive {
  readonly index: ShardIndex
  /** Absolute paths of the shard files, in the order of `index.shards`. */
  readonly shardPaths: readonly string[]
}

/** Reads and checks the structure of a shard index (not the shards: see `openShardedArchive`). */
export function readShardIndex(indexPath: string): ShardIndex {
  let text: string
  try {
    text = readFileSync(indexPath, 'utf8')
  } catch (e) {
    throw new Error(`${indexPath}: cannot read the index of the sharded checkpoint (${(e as Error).message})`, {
      cause: e
    })
  }
  const redownload = 'the file is truncated or corrupt; download it again with the shards it lists'
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    throw new Error(`${indexPath}: not valid JSON (${(e as Error).message}); ${redownload}`, { cause: e })
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new Error(`${indexPath}: expected a JSON object {"metadata": ..., "weight_map": {...}}; ${redownload}`)
  }
  const { metadata, weight_map: map } = json as Record<string, unknown>
  if (map === null || typeof map !== 'object' || Array.isArray(map)) {
    throw new Error(
      `${indexPath}: no "weight_map" object (tensor name -> shard file); this is not the index of a sharded checkpoint, or ${redownload}`
    )
  }
  const weightMap = new Map<string, string>()
  for (const [name, shard] of Object.entries(map as Record<string, unknown>)) {
    if (typeof shard !== 'string' || shard === '') {
      throw new Error(
        `${indexPath}: weight_map["${name}"] is ${JSON.stringify(shard)}, not a shard file name; ${redownload}`
      )
    }
    if (shard !== basename(shard) || shard === '.' || shard === '..' || shard.includes('\\')) {
      throw new Error(
        `${indexPath}: weight_map["${name}"] names "${shard}", which is not a file in the index's folder; shards must sit next to their index`
      )
    }
    weightMap.set(name, shard)
  }
  if (weightMap.size === 0)
    throw new Error(`${indexPath}: the weight_map is empty, so the checkpoint has no tensors; ${redownload}`)
  const total =
    metadata !== null && typeof metadata === 'object' ? (metadata as Record<string, unknown>).total_size : undefined
  return {
    path: indexPath,
    ...(typeof total === 'number' ? { totalSize: total } : {}),
    weightMap,
    shards: [...new Set(weightMap.values())].sort()
  }
}

/** Shard files the index names that are not in its folder (empty when all are there). */
export function missingShards(index: ShardIndex): string[] {
  const dir = dirname(index.path)
  return index.shards.filter(s => !existsSync(join(dir, s)))
}

/** A shard is read by its extension: `.safetensors`, else a PyTorch zip pickle (`.bin`, `.pt`). */
function openShard(path: string): TensorArchive {
  return path.endsWith('.safetensors') ? openSafetensors(path) : openTorchCheckpoint(path)
}

/**
 * Opens a sharded checkpoint from its index. Every shard must exist and hold every tensor the index
 * places in it; tensors a shard holds beyond those are not exposed (the index is the list of record).
 * `close()` closes every shard.
 */
export function openShardedArchive(indexPath: string): ShardedArchive {
  const index = readShardIndex(indexPath)
  const dir = dirname(indexPath)
  const missing = missingShards(index)
  if (missing.length > 0) {
    const count = (s: string) => [...index.weightMap.values()].filter(x => x === s).length
    throw new Error(
      `${indexPath}: ${missing.length} of the ${index.shards.length} shard files it lists ${missing.length === 1 ? 'is' : 'are'} missing from ${dir}: ` +
        `${missing.map(s => `${s} (${count(s)} tensors)`).join(', ')}; download the missing shards (or the whole checkpoint) again`
    )
  }
  const opened: TensorArchive[] = []
  const closeAll = (): void => {
    for (const a of opened.splice(0)) a.close()
  }
  try {
    const byShard = new Map<string, TensorArchive>()
    for (const shard of index.shards) {
      const archive = openShard(join(dir, shard))
      opened.push(archive)
      byShard.set(shard, archive)
    }
    const tensors = new Map<string, StoredTensor>()
    for (const [name, shard] of index.weightMap) {
      const archive = byShard.get(shard)!
      const t = archive.tensors.get(name)
      if (!t) {
        const elsewhere = [...byShard].find(([, a]) => a.tensors.has(name))?.[0]
        throw new Error(
          `${archive.source}: has no tensor "${name}", which ${basename(indexPath)} places in this shard` +
            `${elsewhere ? ` (it is in ${elsewhere})` : ''}; the shard and the index come from different saves or downloads, download them again`
        )
      }
      tensors.set(name, t)
    }
    return { source: indexPath, index, shardPaths: index.shards.map(s => join(dir, s)), tensors, close: closeAll }
  } catch (e) {
    closeAll()
    throw e
  }
}
