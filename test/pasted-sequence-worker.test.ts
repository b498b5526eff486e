/**
 * Pasted-sequence activations run in the service's resident worker thread (pasted-sequences.ts): the answers
 * equal the ones computed in the test's own thread with the same model + SAE (the previous in-thread path);
 * while a long pasted sequence is computed, other requests are answered first; a crash of the worker fails the
 * running query with a clear error and the next query starts a new worker. Real worker thread, real demo
 * models (random weights), real ONNX sessions, real store.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pastedSequenceFeatures } from '../src/main/engine/jobs/pasted-sequence-features'
import { importEsm2 } from '../src/main/engine/esm/esm2-import'
import { Esm2Model } from '../src/main/engine/esm/esm2-model'
import { LatentExtractor } from '../src/main/engine/sae/latent-extractor'
import { loadSae } from '../src/main/engine/sae/sae-load'
import { LatentStore } from '../src/main/engine/store/latent-store'
import { mulberry32 } from '../src/main/engine/random'
import { openWorkbench, type WorkbenchService } from '../src/main/workbench/service'
import { MAX_PASTED_SEQUENCE_RESIDUES } from '../src/main/workbench/pasted-sequences'
import { CRASH_RESIDUES } from './helpers/crashing-pasted-sequence-worker'
import { tempDir } from './helpers/tmp'

const tmp = tempDir('pasted')
const resourcesDir = join(__dirname, '..', 'resources')
const runtime = { device: 'cpu' as const, deviceId: 0, threads: 1 }
const ubiquitin = 'MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG'

/** A random protein of n residues (the 20 standard amino acids; seeded). */
function randomProtein(n: number, seed: number): string {
  const aa = 'ACDEFGHIKLMNPQRSTVWY'
  const rnd = mulberry32(seed)
  return Array.from({ length: n }, () => aa[Math.floor(rnd() * aa.length)]).join('')
}

let service: WorkbenchService
let projectId: string
let reference: { store: LatentStore; model: Esm2Model; extractor: LatentExtractor }

beforeAll(async () => {
  // the app's worker, which crashes when asked for a sequence of CRASH_RESIDUES residues
  const workerEntry = (): { file: string; execArgv: string[] } => ({
    file: join(__dirname, 'helpers', 'crashing-pasted-sequence-worker.ts'),
    execArgv: ['--import', 'tsx']
  })
  service = await openWorkbench({
    mode: 'browser',
    dataDir: tmp.dir,
    resourcesDir,
    runtime,
    workerEntry,
    firstRunDemo: false
  })
  const { project, job } = await service.createProject({
    name: 'Ubiquitin',
    source: { kind: 'fasta', text: `>sp|P62988|UBIQ_HUMAN Ubiquitin\n${ubiquitin}\n` },
    modelId: 'demo:esm2',
    saeId: 'demo:sae'
  })
  const ended = await service.jobs.waitFor(job!.id)
  expect(ended.state, ended.error).toBe('done')
  projectId = project.id
  // the previous path: the same model + SAE opened in this thread
  const modelDir = service.models.resolve('demo:esm2').dir
  const saeDir = service.models.resolve('demo:sae').dir
  const model = await Esm2Model.open(await importEsm2(modelDir, service.modelCache), runtime)
  const sae = await loadSae(saeDir, { layer: project.layer })
  const extractor = await LatentExtractor.open(model, sae, { layer: project.layer })
  reference = { store: LatentStore.open(service.projects.storePath(projectId)), model, extractor }
}, 300_000)

afterAll(async () => {
  await reference?.extractor.close()
  await reference?.model.close()
  reference?.store.close()
  await service?.close()
  tmp.cleanup()
})

describe('pasted-sequence activations in a worker thread', () => {
  it('answers exactly as the in-thread computation, for a short and for a long (windowed) sequence', async () => {
    for (const sequence of [ubiquitin, randomProtein(2500, 7)]) {
      const query = { sequence, limit: 20_000, withTracks: 5 }
      const inWorker = await service.liveFeatures({ projectId, ...query })
      const inThread = await pastedSequenceFeatures(reference.store, reference.extractor, query)
      expect(inWorker.items.length).toBeGreaterThan(0)
      expect(inWorker).toEqual(inThread)
    }
  }, 300_000)

  it('answers other requests while a long pasted sequence is computed', async () => {
    const long = randomProtein(MAX_PASTED_SEQUENCE_RESIDUES, 11)
    const order: string[] = []
    const live = service.liveFeatures({ projectId, sequence: long, limit: 10 }).then(r => {
      order.push('pasted sequence')
      return r
    })
    for (let i = 0; i < 3; i++) {
      const features = await service.listFeatures({ projectId, sort: { key: 'max', dir: 'desc' }, limit: 5 })
      expect(features.items).toHaveLength(5)
      order.push(`feature list ${i}`)
    }
    await service.listJobs({})
    order.push('job list')
    const result = await live
    expect(order).toEqual(['feature list 0', 'feature list 1', 'feature list 2', 'job list', 'pasted sequence'])
    expect(result.sequence).toBe(long)
    expect(result.items).toHaveLength(10)
  }, 300_000)

  it('a crash of the worker fails the running query with a clear error; the next query starts a new worker', async () => {
    const first = await service.pastedSequences.source(sourceInput())
    await expect(
      service.liveFeatures({ projectId, sequence: randomProtein(CRASH_RESIDUES, 13), limit: 10 })
    ).rejects.toThrow(
      /^The worker computing pasted-sequence activations stopped: it stopped with an internal error: a fault injected by the test.*\. The query was not answered; run it again/
    )
    const again = await service.liveFeatures({ projectId, sequence: ubiquitin, limit: 50 })
    expect(again).toEqual(
      await pastedSequenceFeatures(reference.store, reference.extractor, { sequence: ubiquitin, limit: 50 })
    )
    // a new worker answered (the crashed one is gone), and it is kept for the next queries
    const second = await service.pastedSequences.source(sourceInput())
    expect(second).not.toBe(first)
    expect(await service.pastedSequences.source(sourceInput())).toBe(second)
  }, 300_000)
})

function sourceInput(): Parameters<WorkbenchService['pastedSequences']['source']>[0] {
  return {
    model: service.models.resolve('demo:esm2'),
    sae: service.models.resolve('demo:sae'),
    layer: 4,
    runtime,
    modelCacheRoot: service.modelCache
  }
}
