/**
 * The partition of `plm-sae index --shard I/N` (engine/io/shard.ts): "I/N" parsing with clear errors; stable
 * (pinned shard numbers, computed once from the definition: SHA-256 of the accession, first four bytes big-endian,
 * modulo N, plus one — a change here would scatter every existing shard store); balanced over the 20,000 UniProt
 * accessions of the benchmark set; and a partition (every record in exactly one shard).
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readProteins } from '../src/main/engine/io/protein-input'
import { formatShard, inShard, parseShard, shardOf } from '../src/main/engine/io/shard'

const UNIPROT_20K = join(__dirname, '..', '..', 'shared', 'data', 'sequences', 'uniprot-20k.fasta.gz')

describe('parseShard', () => {
  it('reads I/N', () => {
    expect(parseShard('3/8')).toEqual({ index: 3, count: 8 })
    expect(parseShard(' 1 / 1 ')).toEqual({ index: 1, count: 1 })
    expect(formatShard({ index: 2, count: 5 })).toBe('2/5')
  })
  it('refuses anything else, saying what is expected', () => {
    for (const bad of ['3', '0/4', '5/4', '1/0', 'a/b', '-1/3', '1/2/3', ''])
      expect(() => parseShard(bad)).toThrow(/--shard ".*": (expected I\/N|I must be between 1 and N)/)
  })
})

describe('shardOf', () => {
  it('is stable: the same accession always lands in the same shard (pinned values)', () => {
    const pinned: [string, number[]][] = [
      // accession, shard among 2, 3, 4, 8, 16
      ['P69905', [1, 2, 1, 1, 1]],
      ['Q9Y6K9', [1, 2, 3, 3, 11]],
      ['A0A024R161', [1, 3, 3, 3, 11]],
      ['sp-test', [1, 3, 1, 1, 9]]
    ]
    for (const [acc, shards] of pinned) expect([2, 3, 4, 8, 16].map(n => shardOf(acc, n))).toEqual(shards)
    expect(shardOf('anything', 1)).toBe(1)
    expect(() => shardOf('x', 0)).toThrow(/positive integer/)
  })

  it('is a balanced partition of the 20,000 benchmark accessions', async () => {
    const accessions: string[] = []
    for await (const r of readProteins(UNIPROT_20K, { policy: 'skip' })) accessions.push(r.accession)
    expect(accessions.length).toBeGreaterThan(19_000)
    for (const n of [3, 8]) {
      const sizes = new Array<number>(n).fill(0)
      for (const a of accessions) {
        const s = shardOf(a, n)
        expect(s).toBeGreaterThanOrEqual(1)
        expect(s).toBeLessThanOrEqual(n)
        // exactly one shard keeps each record
        let keepers = 0
        for (let i = 1; i <= n; i++) if (inShard(a, { index: i, count: n })) keepers++
        expect(keepers).toBe(1)
        sizes[s - 1]++
      }
      const mean = accessions.length / n
      const sigma = Math.sqrt(accessions.length * (1 / n) * (1 - 1 / n))
      for (const size of sizes) expect(Math.abs(size - mean)).toBeLessThan(5 * sigma) // binomial: 5σ
    }
  }, 60_000)
})
