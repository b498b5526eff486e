/**
 * Sharded indexing and `mergeStores` with the real parts (tiny random ESM2, preprint-format SAE, real SQLite):
 * the shards of an annotated UniProt file merged = one run over the whole file (proteins, latent blobs, every
 * per-feature statistic, examples and concept counts); merging again adds nothing; an interrupted merge
 * resumes to the same store; and every bad merge is refused before anything is written, naming the shard.
 */
import Database from 'better-sqlite3'
import { copyFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { importEsm2, type ImportedEsm2 } from '../src/main/engine/esm/esm2-import'
import { Esm2Model } from '../src/main/engine/esm/esm2-model'
import { shardOf } from '../src/main/engine/io/shard'
import { IndexJob } from '../src/main/engine/jobs/index-job'
import { LatentExtractor } from '../src/main/engine/sae/latent-extractor'
import { loadSae } from '../src/main/engine/sae/sae-load'
import type { SaeWeights } from '../src/main/engine/sae/sae-weights'
import { LatentStore } from '../src/main/engine/store/latent-store'
import { mergeStores, type MergeResult } from '../src/main/engine/store/store-merge'
import { writeHfCheckpoint } from './fixtures/esm2-checkpoint'
import { writePreprintSae } from './fixtures/sae-checkpoints'
import { dumpStore } from './helpers/store-dump'
import { tempDir } from './helpers/tmp'

const SWISSPROT = join(__dirname, '..', '..', 'shared', 'data', 'sequences', 'swissprot-100.dat')
const CPU = { device: 'cpu' as const, deviceId: 0, threads: 2 }
const SHARDS = 3
const tmp = tempDir('store-merge')
let imported: ImportedEsm2
let model: Esm2Model
let sae: SaeWeights
let sae2: SaeWeights
let extractor: LatentExtractor
let extractor2: LatentExtractor
const single = join(tmp.dir, 'single.sqlite')
const shard = (i: number): string => join(tmp.dir, `shard-${i}.sqlite`)
const shardPaths = (): string[] => Array.from({ length: SHARDS }, (_, i) => shard(i + 1))

function job(path: string, extra: Partial<ConstructorParameters<typeof IndexJob>[0]> = {}): Promise<unknown> {
  const store = LatentStore.open(path)
  return new IndexJob({
    store,
    input: SWISSPROT,
    source: extractor,
    model: { name: imported.name, hash: imported.hash },
    sae: { name: sae.name, hash: sae.hash },
    topK: 5,
    batchProteins: 7,
    onBadRecord: 'skip',
    ...extra
  })
    .run()
    .finally(() => store.close())
}

async function merge(
  target: string,
  shards: string[],
  opts: Partial<Parameters<typeof mergeStores>[0]> = {}
): Promise<MergeResult> {
  const store = LatentStore.open(target)
  try {
    return await mergeStores({ target: store, shards, ...opts })
  } finally {
    store.close()
  }
}

function counts(path: string): { proteins: number; latents: number } {
  const db = new Database(path, { readonly: true })
  try {
    return {
      proteins: db.prepare('SELECT COUNT(*) FROM proteins').pluck().get() as number,
      latents: db.prepare('SELECT COUNT(*) FROM latents').pluck().get() as number
    }
  } finally {
    db.close()
  }
}

beforeAll(async () => {
  writeHfCheckpoint(join(tmp.dir, 'model'), 'tiny', 3, { omitTiedDecoder: true })
  writePreprintSae(join(tmp.dir, 'sae'), { dIn: 32, dSae: 48 }, 4, { block: 1 })
  writePreprintSae(join(tmp.dir, 'sae2'), { dIn: 32, dSae: 40 }, 9, { block: 2 })
  imported = await importEsm2(join(tmp.dir, 'model'), join(tmp.dir, 'cache'))
  model = await Esm2Model.open(imported, CPU)
  sae = await loadSae(join(tmp.dir, 'sae'))
  sae2 = await loadSae(join(tmp.dir, 'sae2'))
  extractor = await LatentExtractor.open(model, sae)
  extractor2 = await LatentExtractor.open(model, sae2)
  await job(single)
  for (let i = 1; i <= SHARDS; i++) await job(shard(i), { shard: { index: i, count: SHARDS } })
}, 120_000)

afterAll(async () => {
  await extractor?.close()
  await extractor2?.close()
  await model?.close()
  tmp.cleanup()
})

describe('index --shard', () => {
  it('each shard holds exactly its proteins; together they are the whole input, disjoint', () => {
    const whole = LatentStore.open(single, { readonly: true })
    const all = whole.proteins.list({ limit: 1000 }).items.map(p => p.accession)
    whole.close()
    expect(all.length).toBeGreaterThan(90)
    const seen: string[] = []
    for (let i = 1; i <= SHARDS; i++) {
      const s = LatentStore.open(shard(i), { readonly: true })
      const acc = s.proteins.list({ limit: 1000 }).items.map(p => p.accession)
      expect(acc.length).toBeGreaterThan(0)
      for (const a of acc) expect(shardOf(a, SHARDS)).toBe(i)
      expect(s.runs()).toMatchObject([
        { status: 'complete', statsUpToDate: true, settings: { shard: `${i}/${SHARDS}`, topK: 5 } }
      ])
      seen.push(...acc)
      s.close()
    }
    expect(seen.sort()).toEqual([...all].sort())
  })

  it('refuses to put another shard (or the whole input) into a shard store', async () => {
    await expect(job(shard(1), { shard: { index: 2, count: SHARDS } })).rejects.toThrow(
      /holds shard 1\/3 .*not 2\/3.*its own store/
    )
    await expect(job(shard(1))).rejects.toThrow(/holds shard 1\/3.*plm-sae merge/)
    await expect(job(single, { shard: { index: 1, count: SHARDS } })).rejects.toThrow(/unsharded index/)
  })
})

describe('mergeStores', () => {
  const merged = join(tmp.dir, 'merged.sqlite')

  it('merged shards = one run over the whole input: proteins, latent blobs, every statistic', async () => {
    const r = await merge(merged, shardPaths().reverse())
    const whole = dumpStore(single)
    expect(r).toMatchObject({
      shards: SHARDS,
      proteinsAdded: whole.proteins.length,
      proteinsExisting: 0,
      latentsAdded: whole.latents.length
    })
    expect(r.runs).toMatchObject([{ runId: 1, proteins: whole.proteins.length, statisticsComputed: true }])
    const m = dumpStore(merged)
    expect(m.proteins).toEqual(whole.proteins)
    expect(m.runs).toEqual(whole.runs)
    expect(m.latents).toEqual(whole.latents)
    expect(m.runStats).toEqual(whole.runStats)
    expect(m.featureStats).toEqual(whole.featureStats)
    expect(m.featureDetails).toEqual(whole.featureDetails)
    expect(m.featureConcepts).toEqual(whole.featureConcepts)
    // the input has concept annotations, so the concept statistics are really compared
    expect(whole.featureConcepts.length).toBeGreaterThan(0)
    expect((whole.runStats[0] as { annotated_proteins: number }).annotated_proteins).toBeGreaterThan(0)
  })

  it('is idempotent: merging the same shards again adds nothing and recomputes nothing', async () => {
    const before = dumpStore(merged)
    const r = await merge(merged, [...shardPaths(), shard(2)])
    expect(r).toMatchObject({ proteinsAdded: 0, latentsAdded: 0, latentsExisting: before.latents.length })
    expect(r.runs[0].statisticsComputed).toBe(false)
    expect(dumpStore(merged)).toEqual(before)
  })

  it('resumes after an interruption to the same store', async () => {
    const target = join(tmp.dir, 'resumed.sqlite')
    const abort = new AbortController()
    await expect(
      merge(target, shardPaths(), {
        batchRows: 5,
        signal: abort.signal,
        onProgress: p => {
          if (p.phase === 'latents' && p.latentsDone >= 20) abort.abort()
        }
      })
    ).rejects.toThrow('cancelled')
    const partial = counts(target)
    expect(partial.latents).toBeGreaterThanOrEqual(20)
    expect(partial.latents).toBeLessThan(counts(single).latents)
    const r = await merge(target, shardPaths())
    expect(r.latentsExisting).toBe(partial.latents)
    expect(dumpStore(target)).toEqual(dumpStore(single))
  })

  it('merges a second SAE indexed over the same shards into the same proteins', async () => {
    for (let i = 1; i <= SHARDS; i++) {
      await job(join(tmp.dir, `two-${i}.sqlite`), { shard: { index: i, count: SHARDS } })
      await job(join(tmp.dir, `two-${i}.sqlite`), {
        shard: { index: i, count: SHARDS },
        source: extractor2,
        sae: { name: sae2.name, hash: sae2.hash }
      })
    }
    await job(join(tmp.dir, 'two-single.sqlite'))
    await job(join(tmp.dir, 'two-single.sqlite'), { source: extractor2, sae: { name: sae2.name, hash: sae2.hash } })
    const target = join(tmp.dir, 'two-merged.sqlite')
    const r = await merge(
      target,
      [1, 2, 3].map(i => join(tmp.dir, `two-${i}.sqlite`))
    )
    expect(r.runs.map(x => x.saeName)).toEqual([sae.name, sae2.name])
    expect(dumpStore(target)).toEqual(dumpStore(join(tmp.dir, 'two-single.sqlite')))
  }, 120_000)
})

describe('mergeStores refuses bad merges before writing anything, naming the shard', () => {
  let n = 0
  const copy = (from: string): string => {
    const to = join(tmp.dir, `bad-${++n}.sqlite`)
    copyFileSync(from, to)
    return to
  }
  const edit = (path: string, sql: string, ...args: unknown[]): void => {
    const db = new Database(path)
    db.prepare(sql).run(...args)
    db.close()
  }
  async function refused(
    shards: string[],
    message: RegExp,
    target = join(tmp.dir, `target-${++n}.sqlite`)
  ): Promise<void> {
    const before = LatentStore.open(target)
    const had = before.info().proteins
    before.close()
    await expect(merge(target, shards)).rejects.toThrow(message)
    expect(counts(target).proteins).toBe(had)
    expect(counts(target).latents).toBe(0)
  }

  it('a missing shard', async () => {
    await refused([shard(1), shard(3)], /shard 2\/3 missing: pass the stores of all 3 shards/)
  })

  it('the same shard in two files', async () => {
    const dup = copy(shard(2))
    await refused(
      [...shardPaths(), dup],
      new RegExp(
        `${dup}.* and .*shard-2\\.sqlite both hold shard 2/3|shard-2\\.sqlite and .*${dup.split('/').pop()} both hold shard 2/3`
      )
    )
  })

  it('a shard of another SAE', async () => {
    const other = join(tmp.dir, 'other-sae-2.sqlite')
    await job(other, {
      shard: { index: 2, count: SHARDS },
      source: extractor2,
      sae: { name: sae2.name, hash: sae2.hash }
    })
    await refused(
      [shard(1), other, shard(3)],
      new RegExp(`${other}|shard-1\\.sqlite.*indexed with .*SAE .*merge only shards of the same model, SAE and layer`)
    )
    await expect(merge(join(tmp.dir, 'x.sqlite'), [shard(1), other, shard(3)])).rejects.toThrow(/other-sae-2\.sqlite/)
  })

  it('a shard indexed with other settings', async () => {
    const other = join(tmp.dir, 'other-topk-3.sqlite')
    await job(other, { shard: { index: 3, count: SHARDS }, topK: 9 })
    await refused(
      [shard(1), shard(2), other],
      /other-topk-3\.sqlite \(shard 3\/3\): indexed with settings .*"topK":9.*same settings/
    )
  })

  it('a shard of another partition (N)', async () => {
    const other = join(tmp.dir, 'other-n.sqlite')
    await job(other, { shard: { index: 1, count: 2 } })
    await refused([...shardPaths(), other], /other-n\.sqlite: is shard 1\/2 but .* is shard 1\/3/)
  })

  it('an unfinished shard', async () => {
    const c = copy(shard(2))
    edit(c, "UPDATE runs SET status = 'indexing'")
    await refused(
      [shard(1), c, shard(3)],
      new RegExp(`${c} \\(shard 2/3\\): run 1 is "indexing" .*let its task finish`)
    )
  })

  it('a store written without --shard', async () => {
    await refused([single], /single\.sqlite: run 1 was indexed without --shard/)
  })

  it('a protein that does not belong to its shard (overlapping shards)', async () => {
    const c = copy(shard(2))
    const foreign = LatentStore.open(shard(1), { readonly: true }).proteins.list({ limit: 1 }).items[0].accession
    edit(c, 'UPDATE proteins SET accession = ? WHERE id = (SELECT MIN(id) FROM proteins)', foreign)
    await refused([shard(1), c, shard(3)], new RegExp(`${c}: protein "${foreign}" does not belong to shard 2/3`))
  })

  it('a protein already in the target with another sequence', async () => {
    const target = join(tmp.dir, 'conflict.sqlite')
    const acc = LatentStore.open(shard(3), { readonly: true }).proteins.list({ limit: 1 }).items[0].accession
    const t = LatentStore.open(target)
    t.addProteins([{ accession: acc, name: '', organism: '', description: '', sequence: 'MKV', annotations: [] }])
    t.close()
    await refused(
      shardPaths(),
      new RegExp(
        `shard-3\\.sqlite \\(shard 3/3\\): protein "${acc}" is already in .*conflict\\.sqlite with a different sequence`
      ),
      target
    )
  })

  it('a target that is itself a shard, or one of the shards', async () => {
    await expect(merge(copy(shard(1)), [shard(2)])).rejects.toThrow(/is itself shard 1\/3/)
    await expect(merge(shard(1), shardPaths())).rejects.toThrow(/is the target store itself/)
  })
})
