/**
 * Shards of an index input: `--shard I/N` keeps the records whose accession (the record id) hashes to shard I
 * of N. The hash is the first four bytes of SHA-256 of the accession's UTF-8 bytes, read as a big-endian
 * unsigned integer, modulo N (shard I = remainder I − 1): stable across runs, machines and languages, so a
 * re-run puts every protein in the same shard, and uniform, so shards stay balanced. Every shard reads the
 * whole input and keeps its own records; the same accession twice in the input lands in the same shard.
 */
import { createHash } from 'node:crypto'

export interface ShardSpec {
  /** 1-based shard number. */
  index: number
  /** Number of shards. */
  count: number
}

/** How the partition is computed (recorded with every sharded run, so merge can check it). */
export const SHARD_HASH = 'sha256-u32be-mod'

/** Parses "I/N" (1 ≤ I ≤ N); the error says what is wrong and what is expected. */
export function parseShard(text: string): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text)
  if (!m) throw new Error(`--shard "${text}": expected I/N, e.g. 3/8 for the third of eight shards`)
  const index = Number(m[1])
  const count = Number(m[2])
  if (count < 1 || index < 1 || index > count)
    throw new Error(`--shard "${text}": I must be between 1 and N (N ≥ 1), e.g. 1/${Math.max(1, count)}`)
  return { index, count }
}

export function formatShard(s: ShardSpec): string {
  return `${s.index}/${s.count}`
}

/** The 1-based shard of `accession` among `count` shards. */
export function shardOf(accession: string, count: number): number {
  if (!Number.isInteger(count) || count < 1) throw new Error(`shard count must be a positive integer, not ${count}`)
  const h = createHash('sha256').update(accession, 'utf8').digest()
  return (h.readUInt32BE(0) % count) + 1
}

export function inShard(accession: string, shard: ShardSpec): boolean {
  return shard.count === 1 || shardOf(accession, shard.count) === shard.index
}
