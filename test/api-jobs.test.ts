/**
 * The workbench service's jobs: on a first start the demo project is created and indexed in a worker thread;
 * progress arrives as job events; cancel stops the worker and the job ends 'cancelled'; a second start does not
 * create the demo again. Real worker thread, real demo models, real store.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { JobEvent } from '../src/shared/api'
import { openWorkbench, type WorkbenchService } from '../src/main/workbench/service'
import { filesFromFolder, startFakeHub } from './fixtures/fake-hub'
import { writeSafetensors } from './fixtures/safetensors-writer'
import { tempDir } from './helpers/tmp'

const tmp = tempDir('jobs')
const resourcesDir = join(__dirname, '..', 'resources')
const services: WorkbenchService[] = []

afterAll(async () => {
  for (const s of services) await s.close()
  tmp.cleanup()
})

describe('workbench jobs', () => {
  it('first start: creates the demo project and indexes it in a worker; cancel stops it', async () => {
    const events: JobEvent[] = []
    const service = await openWorkbench({
      mode: 'browser',
      dataDir: tmp.dir,
      resourcesDir,
      runtime: { device: 'cpu', deviceId: 0, threads: 1 }
    })
    services.push(service)
    service.onJobEvent(e => events.push(e))

    const projects = await service.listProjects({})
    expect(projects).toHaveLength(1)
    expect(projects[0]).toMatchObject({
      id: 'demo',
      demo: true,
      modelId: 'demo:esm2',
      saeId: 'demo:sae',
      layer: 4,
      proteinCount: 100,
      indexed: false,
      structureCount: 5
    })
    const structures = await service.listStructures({ projectId: 'demo' })
    expect(structures.map(s => s.name).sort()).toEqual(['1HPV', '1SP1', '1UBQ', '2HHB', '3ZNF'])
    expect(structures.find(s => s.name === '2HHB')).toMatchObject({
      format: 'pdb',
      chains: ['A', 'B', 'C', 'D'],
      proteinIds: ['P69905', 'P68871']
    })
    const file = await service.loadStructure({ projectId: 'demo', structureId: '1ubq' })
    expect(file.text).toMatch(/^HEADER {4}CHROMOSOMAL PROTEIN/)
    await expect(service.loadStructure({ projectId: 'demo', structureId: 'nope' })).rejects.toThrow(
      /no structure "nope"/
    )

    const [job] = await service.listJobs({})
    expect(job).toMatchObject({ kind: 'index', projectId: 'demo', state: 'running' })
    expect((await service.appInfo({})).currentProjectId).toBe('demo')

    // Wait until the worker computes latents (the demo models were generated and imported by then).
    await new Promise<void>((resolve, reject) => {
      const check = (): boolean => events.some(e => e.job.id === job.id && e.job.progress.phase === 'computing latents')
      if (check()) return resolve()
      const off = service.onJobEvent(e => {
        if (e.job.state !== 'running') reject(new Error(`the job ended ${e.job.state}: ${e.job.error}`))
        if (check()) {
          off()
          resolve()
        }
      })
    })
    expect(existsSync(join(tmp.dir, 'demo', 'esm2-random-weights', 'model.safetensors'))).toBe(true)
    const phases = [...new Set(events.filter(e => e.job.id === job.id).map(e => e.job.progress.phase))]
    expect(phases).toEqual(expect.arrayContaining(['generating the demo models (random weights)', 'computing latents']))

    const cancelling = await service.cancelJob({ jobId: job.id })
    expect(cancelling.id).toBe(job.id)
    const ended = await service.jobs.waitFor(job.id)
    expect(ended.state).toBe('cancelled')
    expect(ended.finishedAt).toBeDefined()
    expect((await service.listJobs({})).find(j => j.id === job.id)?.state).toBe('cancelled')
    expect((await service.listProjects({}))[0].indexed).toBe(false)
    await expect(service.cancelJob({ jobId: 'no-such-job' })).rejects.toThrow(/no job "no-such-job"/)
  }, 120_000)

  it('a second start keeps the projects and does not recreate the demo', async () => {
    const again = await openWorkbench({
      mode: 'browser',
      dataDir: tmp.dir,
      resourcesDir,
      runtime: { device: 'cpu', deviceId: 0, threads: 1 }
    })
    services.push(again)
    expect((await again.listProjects({})).map(p => p.id)).toEqual(['demo'])
    expect(await again.listJobs({})).toEqual([])
  })

  it('refuses projects with unknown models and empty inputs, with a sentence saying what to do', async () => {
    const s = services[1]
    await expect(
      s.createProject({
        name: 'x',
        source: { kind: 'fasta', text: '>a\nMKV\n' },
        modelId: 'hub:nobody/nothing',
        saeId: 'demo:sae'
      })
    ).rejects.toThrow(/not in the model library/)
    await expect(
      s.createProject({
        name: 'x',
        source: { kind: 'fasta', text: '>a\nMKV\n' },
        modelId: 'hub:facebook/esm2_t6_8M_UR50D',
        saeId: 'demo:sae'
      })
    ).rejects.toThrow(/ESM2 8M is not ready \(not-downloaded.*Download it in Models & projects first/)
    await expect(
      s.createProject({
        name: 'x',
        source: { kind: 'fasta', text: 'MKV\n' },
        modelId: 'demo:esm2',
        saeId: 'demo:sae',
        index: false
      })
    ).rejects.toThrow(/no FASTA records/)
    const made = await s.createProject({
      name: 'My kinases',
      source: { kind: 'fasta', text: '>a\nMKV\n>b\nMKVL\n' },
      modelId: 'demo:esm2',
      saeId: 'demo:sae',
      index: false
    })
    expect(made.job).toBeUndefined()
    expect(made.project).toMatchObject({ id: 'my-kinases', name: 'My kinases', proteinCount: 2, demo: false, layer: 4 })
    await expect(s.downloadModel({ id: 'demo:esm2' })).rejects.toThrow(/generated on this computer/)
    await expect(s.addModel({ kind: 'esm2', source: 'local-dialog' })).rejects.toThrow(
      /only possible in the desktop app/
    )
  })

  it('indexes a small project and answers store queries; a pasted sequence gives the stored latents', async () => {
    const s = services[1]
    const ubiquitin = 'MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG'
    const zincFinger = 'KKFACPECPKRFMRSDHLSKHIKTHQNKK'
    const { project, job } = await s.createProject({
      name: 'Two proteins',
      source: {
        kind: 'fasta',
        text: `>sp|P62988|UBIQ_HUMAN Ubiquitin\n${ubiquitin}\n>zf Sp1 finger 3\n${zincFinger}\n`
      },
      modelId: 'demo:esm2',
      saeId: 'demo:sae',
      falsePositives: 'all'
    })
    expect(job).toBeDefined()
    expect(project.falsePositives).toBe('all')
    const ended = await s.jobs.waitFor(job!.id)
    expect(ended.state, ended.error).toBe('done')
    expect((await s.listProjects({})).find(p => p.id === project.id)).toMatchObject({
      indexed: true,
      featureCount: 2048
    })

    const info = await s.storeInfo({ projectId: project.id })
    expect(info).toMatchObject({ proteins: 2, residues: ubiquitin.length + zincFinger.length })
    expect(info.runs[0]).toMatchObject({
      status: 'complete',
      layer: 4,
      dSae: 2048,
      modelName: 'Demo ESM2 (random weights)',
      saeName: 'Demo SAE (random weights)'
    })
    // the concept false-positive scope chosen for the project is recorded with the run
    expect(info.runs[0].settings).toMatchObject({
      concepts: { falsePositives: 'all', splitTypes: [], minInstances: 1 }
    })
    const proteins = await s.listProteins({ projectId: project.id })
    expect(proteins.items.map(p => p.accession).sort()).toEqual(['P62988', 'zf'])
    const features = await s.listFeatures({ projectId: project.id, sort: { key: 'max', dir: 'desc' }, limit: 5 })
    expect(features.total).toBe(2048)
    expect(features.items[0].max).toBeGreaterThanOrEqual(features.items[4].max)
    const detail = await s.featureDetail({ projectId: project.id, feature: features.items[0].id })
    expect(detail.summary.id).toBe(features.items[0].id)
    const labelled = await s.updateFeatureLabel({
      projectId: project.id,
      feature: features.items[0].id,
      label: 'strongest',
      notes: 'first\nnote'
    })
    expect(labelled).toEqual({ feature: features.items[0].id, label: 'strongest', notes: 'first\nnote' })
    expect((await s.featureDetail({ projectId: project.id, feature: features.items[0].id })).label).toBe('strongest')
    const csv = await s.exportFeatures({ projectId: project.id, format: 'csv', sort: { key: 'id', dir: 'asc' } })
    expect(csv).toMatchObject({ fileName: 'two-proteins-features.csv', mimeType: 'text/csv' })
    expect(csv.text.trim().split('\n')).toHaveLength(2049)

    // The same sequence pasted as FASTA, computed live, gives the stored latents (stored as float16).
    const stored = await s.proteinFeatures({ projectId: project.id, protein: 'P62988', limit: 20_000 })
    const live = await s.liveFeatures({
      projectId: project.id,
      sequence: `>pasted\n${ubiquitin.slice(0, 40)}\n${ubiquitin.slice(40).toLowerCase()}\n`,
      limit: 20_000
    })
    expect(live.protein).toBeNull()
    expect(live.sequence).toBe(ubiquitin)
    expect(live.total).toBe(stored.total)
    expect(live.items.length).toBe(stored.total)
    const storedByFeature = new Map(stored.items.map(h => [h.feature, h]))
    for (const h of live.items) {
      const ref = storedByFeature.get(h.feature)
      expect(ref, `feature ${h.feature} fires live but not in the store`).toBeDefined()
      // float16 storage: relative error below 2^-10 (plus a little for the sum in the mean).
      expect(Math.abs(h.max - ref!.max)).toBeLessThanOrEqual(1e-3 * Math.max(1e-3, ref!.max))
      expect(Math.abs(h.mean - ref!.mean)).toBeLessThanOrEqual(2e-3 * Math.max(1e-3, ref!.mean))
      expect(h.firingResidues).toBe(ref!.firingResidues)
    }
    await expect(s.liveFeatures({ projectId: project.id, sequence: '>a\nMKV\n>b\nMKV\n' })).rejects.toThrow(
      /2 FASTA records: paste one sequence/
    )
    // A concept report of a pasted family (two copies of ubiquitin): no annotations in this project, so no
    // concept predictors; every feature firing on ubiquitin fires in both members, on the same residues.
    const report = await s.conceptReport({
      projectId: project.id,
      text: `>u1\n${ubiquitin}\n>u2\n${ubiquitin.toLowerCase()}\n`
    })
    expect(report.predictors).toBe(0)
    expect(report.sequences.map(q => [q.id, q.predicted.length])).toEqual([
      ['u1', 0],
      ['u2', 0]
    ])
    expect(report.family!.features.length).toBe(Math.min(100, stored.total))
    for (const f of report.family!.features) {
      expect(f.members).toBe(2)
      expect(f.columns.every(c => c === 0 || c === 2)).toBe(true)
      expect(f.columns.filter(c => c === 2).length).toBe(storedByFeature.get(f.feature)!.firingResidues)
    }
    await expect(s.conceptReport({ projectId: project.id, text: '>x\nMKV1LL\n' })).rejects.toThrow(
      /^The pasted sequences cannot be read: line 1: bad record "x"/
    )
    await expect(s.proteinDetail({ projectId: project.id, protein: 'Q99999' })).rejects.toThrow(/no protein "Q99999"/)
  }, 120_000)

  it('downloads a hub entry as a job with byte progress, and the library then lists it ready', async () => {
    // A local server plays the Hugging Face hub (HF_ENDPOINT), serving a small SAE in the preprint's format.
    const hub = await startFakeHub()
    const saeDir = join(tmp.dir, 'sae-files')
    mkdirSync(saeDir, { recursive: true })
    const rnd = (k: number): Float32Array => Float32Array.from({ length: k }, (_, i) => Math.sin(i) / 4)
    writeSafetensors(join(saeDir, 'model.safetensors'), {
      W_enc: { dtype: 'F32', shape: [320, 256], data: rnd(320 * 256) },
      b_enc: { dtype: 'F32', shape: [256], data: rnd(256) },
      W_dec: { dtype: 'F32', shape: [256, 320], data: rnd(256 * 320) },
      b_dec: { dtype: 'F32', shape: [320], data: rnd(320) }
    })
    writeFileSync(join(saeDir, 'config.json'), JSON.stringify({ cfg: { act_size: 320, dict_size: 256, layer: 3 } }))
    hub.addRepo({ id: 'someone/tiny-sae', files: filesFromFolder(saeDir) })
    const before = process.env.HF_ENDPOINT
    process.env.HF_ENDPOINT = hub.url
    try {
      const s = await openWorkbench({
        mode: 'browser',
        dataDir: join(tmp.dir, 'download-data'),
        resourcesDir,
        firstRunDemo: false
      })
      services.push(s)
      const entry = await s.addModel({
        kind: 'sae',
        source: 'hub',
        repo: 'someone/tiny-sae',
        saeFormat: 'preprint',
        layer: 4,
        baseModelId: 'demo:esm2'
      })
      expect(entry).toMatchObject({ id: 'hub:someone/tiny-sae', status: 'not-downloaded', builtIn: false })
      const events: JobEvent[] = []
      s.onJobEvent(e => events.push(e))
      const job = await s.downloadModel({ id: entry.id })
      expect(job).toMatchObject({ kind: 'download', entryId: entry.id, state: 'running' })
      const ended = await s.jobs.waitFor(job.id)
      expect(ended.state, ended.error).toBe('done')
      const bytes = events.filter(e => e.job.id === job.id && e.job.progress.unit === 'bytes').map(e => e.job.progress)
      expect(bytes.length).toBeGreaterThan(0)
      expect(ended.progress.done).toBe(ended.progress.total)
      expect(ended.progress.total).toBeGreaterThan(320 * 256 * 4 * 2)
      const ready = (await s.listModels({})).find(m => m.id === entry.id)
      expect(ready).toMatchObject({ status: 'ready' })
      expect(ready!.diskBytes).toBeGreaterThan(320 * 256 * 4 * 2)
      // An idle project indexed with it: removing says what that project loses.
      await s.createProject({
        name: 'Uses the tiny SAE',
        source: { kind: 'fasta', text: '>a\nMKV\n' },
        modelId: 'demo:esm2',
        saeId: entry.id,
        index: false
      })
      // Removing frees the bytes; a user entry leaves the list.
      const removed = await s.removeModel({ id: entry.id })
      expect(removed).toMatchObject({ id: entry.id, entryRemoved: true })
      expect(removed.warnings).toEqual([
        expect.stringMatching(
          /^Project "Uses the tiny SAE" was indexed with it: their stored features stay readable, but .*need it again/
        )
      ])
      expect(removed.freedBytes).toBeGreaterThan(320 * 256 * 4 * 2)
      expect((await s.listModels({})).some(m => m.id === entry.id)).toBe(false)
    } finally {
      if (before === undefined) delete process.env.HF_ENDPOINT
      else process.env.HF_ENDPOINT = before
      await hub.close()
    }
  })
})
