/**
 * Steering experiments through the workbench service (the API the app uses): the demo project indexed for
 * real, an 'experiment' job in the worker thread (proteins of the project as starts, random controls matched
 * with the store's firing frequencies, multiple-of-max from its max activations), progress, the experiment
 * listed, its summary, sequences and exports; the same design again resumes (no new rows); steering runs saved
 * as JSON files move into the store and stay readable; bad designs are refused with the field named.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobEvent } from '../src/shared/api'
import { openWorkbench, type WorkbenchService } from '../src/main/workbench/service'
import { validateRequest } from '../src/shared/validate'
import type { ExperimentDesign } from '../src/shared/experiment-types'
import type { SteeringRunRecord } from '../src/shared/steering-types'
import { tempDir } from './helpers/tmp'

const tmp = tempDir('experiment-wb')
const resourcesDir = join(__dirname, '..', 'resources')
let service: WorkbenchService
const events: JobEvent[] = []

beforeAll(async () => {
  service = await openWorkbench({
    mode: 'browser',
    dataDir: tmp.dir,
    resourcesDir,
    runtime: { device: 'cpu', deviceId: 0, threads: 2 }
  })
  service.onJobEvent(e => events.push(e))
  const [job] = await service.listJobs({})
  const ended = await service.jobs.waitFor(job.id)
  if (ended.state !== 'done') throw new Error(`demo indexing ended ${ended.state}: ${ended.error}`)
}, 600_000)

afterAll(async () => {
  await service?.close()
  tmp.cleanup()
})

describe('steering experiments in the workbench', () => {
  it('runs an experiment job into the project store; lists, summarises, exports; the same design resumes', async () => {
    const features = (
      await service.listFeatures({ projectId: 'demo', status: 'alive', sort: { key: 'max', dir: 'desc' }, limit: 2 })
    ).items
    const proteins = (await service.listProteins({ projectId: 'demo', limit: 2 })).items
    const design: ExperimentDesign = {
      name: 'workbench experiment',
      start: { kind: 'proteins', accessions: proteins.map(p => p.accession) },
      generation: { mode: 'edit', temperature: 1, rounds: 1, maskFraction: 0.15 },
      n: 4,
      seed: 2,
      clampSets: [{ clamps: [{ feature: features[0].id, mode: 'multiple-of-max', value: 1 }] }],
      doses: [1, 4],
      controls: { noClamp: true, ablation: false, randomDraws: 1 },
      pll: 'off',
      success: { kind: 'activation' },
      bootstrap: 200,
      permutations: 200
    }
    const request = validateRequest('startExperiment', { projectId: 'demo', design })
    const { job } = await service.startExperiment(request)
    expect(job.kind).toBe('experiment')
    const ended = await service.jobs.waitFor(job.id)
    expect(ended.error).toBeUndefined()
    expect(ended.state).toBe('done')
    expect(
      events.some(e => e.job.id === job.id && e.job.progress.unit === 'sequences' && e.job.progress.total === 16)
    ).toBe(true)
    const [info] = await service.listExperiments({ projectId: 'demo' })
    expect(info).toMatchObject({
      name: 'workbench experiment',
      status: 'complete',
      conditions: 4,
      sequences: 16,
      done: 16
    })
    const summary = await service.experimentSummary({ projectId: 'demo', experimentId: info.id })
    expect(summary.provenance.featureStatistics).toMatch(/^store /)
    expect(summary.conditions.map(c => c.condition.key)).toEqual([
      'control/none',
      'set1/dose1',
      'set1/dose2',
      'set1/random1'
    ])
    const seqs = await service.experimentSequences({ projectId: 'demo', experimentId: info.id, conditionIndex: 2 })
    expect(seqs).toHaveLength(4)
    expect(seqs.map(s => s.startId)).toEqual([
      proteins[0].accession,
      proteins[1].accession,
      proteins[0].accession,
      proteins[1].accession
    ])
    const html = await service.exportExperiment({ projectId: 'demo', experimentId: info.id, format: 'html' })
    expect(html.mimeType).toBe('text/html')
    expect(html.text).toContain('<h1>workbench experiment</h1>')
    const fasta = await service.exportExperiment({
      projectId: 'demo',
      experimentId: info.id,
      format: 'fasta',
      conditionIndex: 1
    })
    expect(fasta.text.split('\n').filter(l => l.startsWith('>'))).toHaveLength(4)
    expect(fasta.text).toMatch(/ condition=".* × 1" clamps=\d+:multiple-of-max:1 mode=edit seed=2 /)
    const csv = await service.exportExperiment({ projectId: 'demo', experimentId: info.id, format: 'csv' })
    expect(csv.text.trim().split('\n')).toHaveLength(17)
    // the same design again: the job finds the experiment complete
    const again = await service.startExperiment(request)
    expect((await service.jobs.waitFor(again.job.id)).state).toBe('done')
    expect(await service.listExperiments({ projectId: 'demo' })).toHaveLength(1)
    await expect(service.experimentSummary({ projectId: 'demo', experimentId: 'exp-000000000000' })).rejects.toThrow(
      /no experiment/
    )
  }, 600_000)

  it('moves steering runs saved as JSON files into the store; they stay readable', async () => {
    const dir = join(service.projects.dir('demo'), 'steering')
    mkdirSync(dir, { recursive: true })
    const run: SteeringRunRecord = {
      id: '20240101-legacy01',
      createdAt: '2024-01-01T00:00:00.000Z',
      provenance: { model: 'm', modelHash: 'a'.repeat(64), sae: 's', saeHash: 'b'.repeat(64), layer: 4 },
      parent: undefined,
      clamps: [{ feature: 1, mode: 'absolute', value: 2 }],
      resolvedValues: [2],
      settings: { mode: 'denovo', n: 1, seed: 1, temperature: 1, rounds: 2, maskFraction: 0.15, length: 5 },
      sequences: [
        { id: '20240101-legacy01_1', sequence: 'ACDEF', scores: { featureActivation: [{ feature: 1, mean: 0.5 }] } }
      ]
    }
    writeFileSync(join(dir, `${run.id}.json`), JSON.stringify(run))
    const runs = await service.listSteeringRuns({ projectId: 'demo' })
    expect(runs.map(r => r.id)).toContain(run.id)
    expect(existsSync(join(dir, `${run.id}.json`))).toBe(false)
    expect(await service.steeringRun({ projectId: 'demo', runId: run.id })).toEqual(run)
    expect((await service.exportSteeringRun({ projectId: 'demo', runId: run.id, format: 'fasta' })).text).toContain(
      'ACDEF'
    )
  })

  it('refuses bad designs, naming the field', () => {
    expect(() => validateRequest('startExperiment', { projectId: 'demo', design: { name: 'x' } })).toThrow(
      /request.design.start/
    )
    const base = {
      name: 'x',
      start: { kind: 'denovo', length: 10 },
      generation: { mode: 'denovo', temperature: 1, rounds: 2, maskFraction: 0.1 },
      n: 2,
      seed: 1,
      clampSets: [{ clamps: [{ feature: 1, mode: 'absolute', value: 1 }] }],
      doses: [1],
      controls: { noClamp: true, ablation: false, randomDraws: 0 },
      pll: 'off',
      success: { kind: 'activation' }
    }
    expect(validateRequest('startExperiment', { projectId: 'demo', design: base }).design.n).toBe(2)
    expect(() => validateRequest('startExperiment', { projectId: 'demo', design: { ...base, doses: [1, 1] } })).toThrow(
      /each dose once/
    )
    expect(() => validateRequest('startExperiment', { projectId: 'demo', design: { ...base, extra: 1 } })).toThrow(
      /extra/
    )
  })
})
