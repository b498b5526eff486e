/**
 * The workbench's first start and what it remembers (issue 4): with a ready real model + SAE (the ones recorded
 * in the settings) the demo set is indexed with them, not with the demo models; without a ready pair (the
 * remembered SAE gone, or "ESM2-8M" files that are not the published ones) the labelled demo pair is used.
 * Opening a project makes it, its model and its SAE the ones a restart opens. Real worker thread, real ONNX
 * runs of tiny random-weight checkpoints in the real formats, real store.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ModelLibrary } from '../src/main/engine/library/model-library'
import { SettingsStore } from '../src/main/engine/library/app-settings'
import { RepoCache } from '../src/main/engine/hub/hub-cache'
import { openWorkbench, type WorkbenchService } from '../src/main/workbench/service'
import { writeHfCheckpoint } from './fixtures/esm2-checkpoint'
import { writePreprintSae } from './fixtures/sae-checkpoints'
import { tempDir } from './helpers/tmp'

const tmp = tempDir('startup')
const resourcesDir = join(__dirname, '..', 'resources')
const runtime = { device: 'cpu' as const, deviceId: 0, threads: 1 }
const services: WorkbenchService[] = []

afterAll(async () => {
  for (const s of services) await s.close()
  tmp.cleanup()
})

/** A tiny ESM2 (3 layers, hidden 32) and a preprint-format SAE on its layer 2 (config block 1), as folders. */
function tinyModels(root: string): { modelDir: string; saeDir: string } {
  const modelDir = join(root, 'tiny-esm2')
  const saeDir = join(root, 'tiny-sae')
  writeHfCheckpoint(modelDir, 'tiny', 11)
  writePreprintSae(saeDir, { dIn: 32, dSae: 64 }, 5, { block: 1 })
  return { modelDir, saeDir }
}

async function open(dataDir: string): Promise<WorkbenchService> {
  const s = await openWorkbench({ mode: 'browser', dataDir, resourcesDir, runtime })
  services.push(s)
  return s
}

describe('first start', () => {
  it('indexes the demo set with the remembered real model and SAE when they are ready', async () => {
    const dataDir = join(tmp.dir, 'real')
    const { modelDir, saeDir } = tinyModels(join(tmp.dir, 'real-models'))
    // The user added both folders to the library earlier and used them last.
    const lib = new ModelLibrary({ dataDir })
    const model = lib.add({ kind: 'esm2', source: 'local', path: modelDir })
    const sae = lib.add({ kind: 'sae', source: 'local', path: saeDir })
    expect(model).toMatchObject({ status: 'ready', demo: false, numLayers: 3 })
    expect(sae).toMatchObject({ status: 'ready', demo: false, layer: 2, saeFormat: 'preprint' })
    new SettingsStore(dataDir).update({ lastModelId: model.id, lastSaeId: sae.id })

    const s = await open(dataDir)
    const [project] = await s.listProjects({})
    expect(project).toMatchObject({
      id: 'demo',
      demo: true,
      modelId: model.id,
      saeId: sae.id,
      layer: 2,
      proteinCount: 100,
      structureCount: 5
    })
    const [job] = await s.listJobs({})
    expect(job).toMatchObject({ kind: 'index', projectId: 'demo' })
    expect(job.title).toBe('Index "Demo: 100 Swiss-Prot proteins" with tiny-esm2 + tiny-sae')
    expect(job.title).not.toMatch(/random weights/)
    expect(new SettingsStore(dataDir).load()).toMatchObject({
      lastProject: join(dataDir, 'projects', 'demo'),
      lastModelId: model.id,
      lastSaeId: sae.id
    })

    const ended = await s.jobs.waitFor(job.id)
    expect(ended.state, ended.error).toBe('done')
    // The demo models were never generated: the real pair did the work.
    expect(existsSync(join(dataDir, 'demo'))).toBe(false)
    const info = await s.storeInfo({ projectId: 'demo' })
    expect(info.proteins).toBe(100)
    expect(info.runs.at(-1)).toMatchObject({
      status: 'complete',
      layer: 2,
      dSae: 64,
      modelName: 'tiny-esm2',
      saeName: 'tiny-sae'
    })
    expect((await s.listProjects({}))[0]).toMatchObject({ indexed: true, featureCount: 64 })
    expect((await s.appInfo({})).currentProjectId).toBe('demo')
  }, 180_000)

  it('uses the demo pair when the remembered SAE is gone', async () => {
    const dataDir = join(tmp.dir, 'sae-gone')
    const { modelDir, saeDir } = tinyModels(join(tmp.dir, 'gone-models'))
    const lib = new ModelLibrary({ dataDir })
    const model = lib.add({ kind: 'esm2', source: 'local', path: modelDir })
    const sae = lib.add({ kind: 'sae', source: 'local', path: saeDir })
    new SettingsStore(dataDir).update({ lastModelId: model.id, lastSaeId: sae.id })
    rmSync(saeDir, { recursive: true })
    expect(lib.get(sae.id).status).toBe('missing-files')

    const s = await open(dataDir)
    const [project] = await s.listProjects({})
    expect(project).toMatchObject({ id: 'demo', modelId: 'demo:esm2', saeId: 'demo:sae', layer: 4 })
    const [job] = await s.listJobs({})
    expect(job.title).toMatch(/with Demo ESM2 \(random weights\) \+ Demo SAE \(random weights\)$/)
    expect(new SettingsStore(dataDir).load()).toMatchObject({ lastModelId: 'demo:esm2', lastSaeId: 'demo:sae' })
    await s.cancelJob({ jobId: job.id })
    expect((await s.jobs.waitFor(job.id)).state).toBe('cancelled')
  }, 60_000)

  it('uses the demo pair when the "ESM2-8M" files placed by hand are not the published ones', async () => {
    const dataDir = join(tmp.dir, 'not-published')
    const hubRoot = join(dataDir, 'hub')
    // Files placed by hand where the library looks for the default pair: a random tiny ESM2 as
    // facebook/esm2_t6_8M_UR50D (its sha256 differs from the real one) and an SAE as the preprint's.
    writeHfCheckpoint(new RepoCache(hubRoot, 'facebook/esm2_t6_8M_UR50D').snapshotDir('main'), 'tiny', 3)
    writePreprintSae(
      new RepoCache(hubRoot, 'evillegasgarcia/sae_esm2_6_l3').snapshotDir('main'),
      { dIn: 32, dSae: 64 },
      4,
      { block: 1 }
    )
    mkdirSync(dataDir, { recursive: true })
    const lib = new ModelLibrary({ dataDir })
    expect(lib.get('hub:facebook/esm2_t6_8M_UR50D').status).toBe('failed-verification')
    expect(lib.get('hub:evillegasgarcia/sae_esm2_6_l3').status).toBe('ready')

    const s = await open(dataDir)
    const [project] = await s.listProjects({})
    expect(project).toMatchObject({ id: 'demo', modelId: 'demo:esm2', saeId: 'demo:sae', layer: 4 })
    const [job] = await s.listJobs({})
    await s.cancelJob({ jobId: job.id })
    expect((await s.jobs.waitFor(job.id)).state).toBe('cancelled')
  }, 60_000)
})

describe('what a restart opens', () => {
  it('opening a project records it, its model and its SAE; the next start opens it', async () => {
    const dataDir = join(tmp.dir, 'real')
    const s = services[0]
    const made = await s.createProject({
      name: 'Two proteins',
      source: { kind: 'fasta', text: '>a\nMKVLAAGIVG\n>b\nMQIFVKTLTG\n' },
      modelId: 'demo:esm2',
      saeId: 'demo:sae',
      index: false
    })
    // A new project is the open one.
    expect((await s.appInfo({})).currentProjectId).toBe(made.project.id)
    expect(new SettingsStore(dataDir).load()).toMatchObject({
      lastProject: join(dataDir, 'projects', made.project.id),
      lastModelId: 'demo:esm2',
      lastSaeId: 'demo:sae'
    })
    // Opening the demo project again makes it (and its real models) the remembered ones.
    const opened = await s.openProject({ projectId: 'demo' })
    expect(opened).toMatchObject({ id: 'demo', indexed: true })
    const remembered = new SettingsStore(dataDir).load()
    expect(remembered.lastProject).toBe(join(dataDir, 'projects', 'demo'))
    expect(remembered.lastModelId).toMatch(/^local:.*tiny-esm2$/)
    expect(remembered.lastSaeId).toMatch(/^local:.*tiny-sae$/)
    const info = await s.appInfo({})
    expect(info.currentProjectId).toBe('demo')
    expect(info).toMatchObject({ lastModelId: remembered.lastModelId, lastSaeId: remembered.lastSaeId })
    await expect(s.openProject({ projectId: 'no-such-project' })).rejects.toThrow(
      /There is no project "no-such-project"/
    )

    // A restart on the same data folder opens the remembered project, even though another was created later.
    const again = await open(dataDir)
    expect(await again.listJobs({})).toEqual([])
    expect((await again.appInfo({})).currentProjectId).toBe('demo')
    await again.openProject({ projectId: made.project.id })
    const third = await open(dataDir)
    expect((await third.appInfo({})).currentProjectId).toBe(made.project.id)
    // A data folder that moved (copied elsewhere, PLM_SAE_HOME changed): the remembered project is found by name.
    new SettingsStore(dataDir).update({ lastProject: join(tmp.dir, 'moved-away', 'projects', 'demo') })
    expect((await third.appInfo({})).currentProjectId).toBe('demo')
    await third.openProject({ projectId: made.project.id })
    // A remembered project that was deleted: the most recently opened one that remains.
    rmSync(join(dataDir, 'projects', made.project.id), { recursive: true })
    expect((await third.appInfo({})).currentProjectId).toBe('demo')
  }, 60_000)
})
