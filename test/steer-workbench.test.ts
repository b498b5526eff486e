/**
 * Steering through the workbench service (the API the app uses): the demo project indexed for real, then the
 * live preview, a 'steer' job in the worker thread with progress, the run saved in the project and re-opened,
 * multiple-of-max resolved from the project's store, exports, cancel, and clear errors.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobEvent } from '../src/shared/api'
import { openWorkbench, type WorkbenchService } from '../src/main/workbench/service'
import { validateRequest } from '../src/shared/validate'
import { tempDir } from './helpers/tmp'

const tmp = tempDir('steer-wb')
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

describe('steering in the workbench', () => {
  it('previews the probability shift of a clamp live', async () => {
    const protein = await service.proteinDetail({
      projectId: 'demo',
      protein: (await service.listProteins({ projectId: 'demo', limit: 1 })).items[0].accession
    })
    const seq = protein.sequence.slice(0, 80)
    const none = await service.steeringPreview({ projectId: 'demo', sequence: seq, clamps: [] })
    expect(none.residues).toBe(80)
    expect(none.aminoAcids).toHaveLength(20)
    expect(none.steered).toEqual(none.unsteered)
    const p = await service.steeringPreview({
      projectId: 'demo',
      sequence: `>x\n${seq}`,
      clamps: [{ feature: 3, mode: 'absolute', value: 50 }]
    })
    expect(p.steered.length).toBe(80 * 20)
    let diff = 0
    p.steered.forEach((v, i) => (diff = Math.max(diff, Math.abs(v - p.unsteered[i]))))
    expect(diff).toBeGreaterThan(1e-4)
    for (let r = 0; r < 80; r++)
      expect(p.steered.slice(r * 20, r * 20 + 20).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5)
    await expect(
      service.steeringPreview({
        projectId: 'demo',
        sequence: seq,
        clamps: [{ feature: 9_999_999, mode: 'absolute', value: 1 }]
      })
    ).rejects.toThrow(/feature 9999999 does not exist/)
  })

  it('runs a steer job in the worker, saves the run in the project, re-opens and exports it', async () => {
    const feature = (
      await service.listFeatures({ projectId: 'demo', status: 'alive', sort: { key: 'max', dir: 'desc' }, limit: 1 })
    ).items[0]
    const start = await service.proteinDetail({
      projectId: 'demo',
      protein: (await service.listProteins({ projectId: 'demo', limit: 1 })).items[0].accession
    })
    const request = validateRequest('startSteering', {
      projectId: 'demo',
      start: { id: start.accession, sequence: start.sequence.slice(0, 60) },
      clamps: [{ feature: feature.id, mode: 'multiple-of-max', value: 2 }],
      settings: { mode: 'resample', n: 3, seed: 4, temperature: 1, rounds: 2, maskFraction: 0.2 },
      motif: 'C-x(2)-C',
      pll: false
    })
    const { job, runId } = await service.startSteering(request)
    expect(job.kind).toBe('steer')
    const ended = await service.jobs.waitFor(job.id)
    expect(ended.error).toBeUndefined()
    expect(ended.state).toBe('done')
    expect(events.some(e => e.job.id === job.id && e.job.progress.phase === 'generating sequences')).toBe(true)
    expect(existsSync(join(tmp.dir, 'projects'))).toBe(true)
    const runs = await service.listSteeringRuns({ projectId: 'demo' })
    expect(runs.map(r => r.id)).toContain(runId)
    const run = await service.steeringRun({ projectId: 'demo', runId })
    expect(run.sequences).toHaveLength(3)
    expect(run.resolvedValues[0]).toBeCloseTo(2 * feature.max, 4)
    expect(run.parent?.id).toBe(start.accession)
    expect(run.sequences[0].scores.motifHits).toBeDefined()
    const fasta = await service.exportSteeringRun({ projectId: 'demo', runId, format: 'fasta' })
    expect(fasta.text.split('\n')[0]).toMatch(
      new RegExp(`^>${runId}_1 model=\\S+ .* layer=4 clamps=${feature.id}:multiple-of-max:2 mode=resample seed=4`)
    )
    const csv = await service.exportSteeringRun({ projectId: 'demo', runId, format: 'csv' })
    expect(csv.text.split('\n')[0]).toBe(
      `id,sequence,length,identity,pll,pll_per_residue,f${feature.id}_activation,motif_hits,motif_positions`
    )
    // the same request again gives the same sequences
    const again = await service.startSteering(request)
    await service.jobs.waitFor(again.job.id)
    const run2 = await service.steeringRun({ projectId: 'demo', runId: again.runId })
    expect(run2.sequences.map(s => s.sequence)).toEqual(run.sequences.map(s => s.sequence))
  }, 300_000)

  it('refuses bad requests at once, and cancels a running job', async () => {
    await expect(
      service.startSteering({
        projectId: 'demo',
        clamps: [],
        settings: { mode: 'edit', n: 1, seed: 1, temperature: 0, rounds: 1, maskFraction: 0.1 },
        pll: false
      })
    ).rejects.toThrow(/edit mode needs a starting sequence/)
    await expect(
      service.startSteering({
        projectId: 'demo',
        start: { id: 's', sequence: 'MKVLA' },
        clamps: [{ feature: 1, mode: 'absolute', value: 1, range: { start: 3, end: 9 } }],
        settings: { mode: 'edit', n: 1, seed: 1, temperature: 0, rounds: 1, maskFraction: 0.1 },
        pll: false
      })
    ).rejects.toThrow(/residue range 3-9 is outside the sequence, which has residues 1-5/)
    expect(() =>
      validateRequest('startSteering', {
        projectId: 'demo',
        clamps: [{ feature: 1, mode: 'absolute', value: 'x' }],
        settings: {},
        pll: false
      })
    ).toThrow(/request.clamps\[0\].value: expected a finite number/)
    await expect(service.steeringRun({ projectId: 'demo', runId: 'nope' })).rejects.toThrow(/no steering run "nope"/)
    const { job } = await service.startSteering({
      projectId: 'demo',
      clamps: [{ feature: 1, mode: 'absolute', value: 3 }],
      settings: { mode: 'denovo', n: 100, seed: 1, temperature: 1, rounds: 50, maskFraction: 0.1, length: 60 },
      pll: false
    })
    await new Promise(r => setTimeout(r, 1500))
    await service.cancelJob({ jobId: job.id })
    expect((await service.jobs.waitFor(job.id)).state).toBe('cancelled')
  }, 120_000)
})
