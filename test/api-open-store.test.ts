/**
 * Projects → Open a store: a merged cluster index (shards indexed with --shard, merged with mergeStores) opened
 * through the workbench service (the file dialog injected) becomes a project whose feature list and feature
 * details are the merged store's whole-input statistics; it is browsed, never re-indexed; shard stores and
 * non-stores are refused with a clear message; the server (no dialog) says where it works.
 */
import { copyFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { importEsm2 } from '../src/main/engine/esm/esm2-import'
import { Esm2Model } from '../src/main/engine/esm/esm2-model'
import { IndexJob } from '../src/main/engine/jobs/index-job'
import { LatentExtractor } from '../src/main/engine/sae/latent-extractor'
import { loadSae } from '../src/main/engine/sae/sae-load'
import { LatentStore } from '../src/main/engine/store/latent-store'
import { mergeStores } from '../src/main/engine/store/store-merge'
import { dispatch } from '../src/main/workbench/dispatch'
import { openWorkbench, type WorkbenchService } from '../src/main/workbench/service'
import { writeHfCheckpoint } from './fixtures/esm2-checkpoint'
import { writePreprintSae } from './fixtures/sae-checkpoints'
import { randomProtein } from './helpers/compare'
import { tempDir } from './helpers/tmp'

const tmp = tempDir('open-store')
const resourcesDir = join(__dirname, '..', 'resources')
const merged = join(tmp.dir, 'merged.sqlite')
const shard = (i: number): string => join(tmp.dir, `shard-${i}-of-3.sqlite`)
const services: WorkbenchService[] = []
let chosen: string | undefined

beforeAll(async () => {
  writeHfCheckpoint(join(tmp.dir, 'model'), 'tiny', 3, { omitTiedDecoder: true })
  writePreprintSae(join(tmp.dir, 'sae'), { dIn: 32, dSae: 48 }, 4, { block: 1 })
  const imported = await importEsm2(join(tmp.dir, 'model'), join(tmp.dir, 'cache'))
  const model = await Esm2Model.open(imported, { device: 'cpu', deviceId: 0, threads: 1 })
  const sae = await loadSae(join(tmp.dir, 'sae'))
  const extractor = await LatentExtractor.open(model, sae)
  const input = join(tmp.dir, 'in.fasta')
  const lines: string[] = []
  for (let i = 0; i < 30; i++)
    lines.push(
      `>sp|Q${String(i).padStart(5, '0')}|T${i}_HUMAN Test ${i} OS=Homo sapiens`,
      randomProtein(20 + ((i * 13) % 60), 500 + i)
    )
  writeFileSync(input, `${lines.join('\n')}\n`)
  for (let i = 1; i <= 3; i++) {
    const store = LatentStore.open(shard(i))
    await new IndexJob({
      store,
      input,
      source: extractor,
      model: imported,
      sae,
      topK: 4,
      shard: { index: i, count: 3 }
    }).run()
    store.close()
  }
  const target = LatentStore.open(merged)
  await mergeStores({ target, shards: [1, 2, 3].map(shard) })
  target.close()
  await extractor.close()
  await model.close()
}, 120_000)

afterAll(async () => {
  for (const s of services) await s.close()
  tmp.cleanup()
})

async function service(chooser: boolean): Promise<WorkbenchService> {
  const s = await openWorkbench({
    mode: chooser ? 'desktop' : 'browser',
    dataDir: join(tmp.dir, chooser ? 'app' : 'server'),
    resourcesDir,
    firstRunDemo: false,
    runtime: { device: 'cpu', deviceId: 0, threads: 1 },
    ...(chooser ? { chooseStoreFile: async () => chosen } : {})
  })
  services.push(s)
  return s
}

describe('Projects → Open a store', () => {
  it('opens a merged cluster index as a project with the whole-input statistics', async () => {
    const s = await service(true)
    chosen = merged
    const info = await s.openStore({ name: 'Cluster index' })
    expect(info).toMatchObject({
      name: 'Cluster index',
      indexed: true,
      proteinCount: 30,
      featureCount: 48,
      modelId: '',
      saeId: '',
      fromStore: { fileName: 'merged.sqlite', modelName: 'model', saeName: expect.any(String) }
    })
    expect((await s.appInfo({})).currentProjectId).toBe(info.id)
    expect((await s.listProjects({})).map(p => p.id)).toContain(info.id)
    // the app shows exactly what the merged store holds: all 30 proteins' statistics
    const direct = LatentStore.open(merged, { readonly: true })
    const storeInfo = await s.storeInfo({ projectId: info.id })
    expect(storeInfo).toMatchObject({ proteins: 30, residues: direct.info().residues })
    const list = await s.listFeatures({ projectId: info.id, limit: 100 })
    expect(list).toEqual({ ...direct.features.list({ limit: 100 }), runId: list.runId })
    const alive = list.items.find(f => !f.dead)!
    const detail = await s.featureDetail({ projectId: info.id, feature: alive.id })
    expect(detail.stats).toEqual(direct.features.detail(alive.id).stats)
    expect(detail.stats.totalProteins).toBe(30)
    expect(detail.topProteins.map(p => p.protein.accession)).toEqual(
      direct.features.detail(alive.id).topProteins.map(p => p.protein.accession)
    )
    direct.close()
    // browsed, not run: clear messages instead of a model lookup failure
    await expect(s.startIndexJob({ projectId: info.id })).rejects.toThrow(
      /opened from the store merged\.sqlite, indexed elsewhere .*browsed as it is/
    )
    await expect(s.liveFeatures({ projectId: info.id, sequence: 'MKVLAAGIVG' })).rejects.toThrow(
      /opened from a store indexed elsewhere/
    )
    // the original file is left alone (copied, not moved)
    expect(LatentStore.open(merged, { readonly: true }).info().proteins).toBe(30)
  })

  it('refuses a shard store (merge first), a non-store, and a cancelled dialog', async () => {
    const s = await service(true)
    const before = (await s.listProjects({})).length
    chosen = shard(2)
    await expect(s.openStore({})).rejects.toThrow(
      /this is shard 2\/3 of a sharded index; merge all shards first \(plm-sae merge/
    )
    chosen = join(tmp.dir, 'not-a-store.sqlite')
    writeFileSync(chosen, 'hello, not SQLite')
    await expect(s.openStore({})).rejects.toThrow(/not a PLM-SAE store/)
    chosen = undefined
    await expect(s.openStore({})).rejects.toThrow(/No store was chosen/)
    expect((await s.listProjects({})).length).toBe(before)
  })

  it('the same store can be opened twice (two projects); the name defaults to the file name', async () => {
    const s = await service(true)
    chosen = join(tmp.dir, 'copy-of-merged.sqlite')
    copyFileSync(merged, chosen)
    const a = await s.openStore({})
    const b = await s.openStore({})
    expect(a.name).toBe('copy-of-merged')
    expect(b.id).not.toBe(a.id)
  })

  it('on a server (no file dialog) says where it works; the request is validated', async () => {
    const s = await service(false)
    await expect(s.openStore({})).rejects.toThrow(/only possible in the desktop app/)
    const bad = await dispatch(s, 'openStore', { name: 42 })
    expect(bad).toMatchObject({ ok: false, status: 400 })
  })
})
