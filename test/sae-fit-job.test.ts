/**
 * The SAE fit check as a job of the workbench (checkSaeFit): it runs in a worker thread with progress (rate, ETA),
 * compares every layer when asked, and its result is kept with the SAE's library entry, equal to the engine's
 * check-sae on the same sample (sae-fit.test.ts checks the engine against an independent computation). Real worker
 * thread, real demo models (random weights), real ONNX sessions.
 */
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { JobEvent } from '../src/shared/api'
import { importEsm2 } from '../src/main/engine/esm/esm2-import'
import { Esm2Model } from '../src/main/engine/esm/esm2-model'
import { checkSaeFit, FIT_SAMPLE_PROTEINS, FIT_SAMPLE_RESIDUES, sampleProteins } from '../src/main/engine/sae/sae-fit'
import { loadSae } from '../src/main/engine/sae/sae-load'
import { openWorkbench, type WorkbenchService } from '../src/main/workbench/service'
import { tempDir } from './helpers/tmp'

const tmp = tempDir('sae-fit-job')
const resourcesDir = join(__dirname, '..', 'resources')
const runtime = { device: 'cpu' as const, deviceId: 0, threads: 1 }
let service: WorkbenchService | undefined

afterAll(async () => {
  await service?.close()
  tmp.cleanup()
})

describe('checkSaeFit (a job)', () => {
  it('compares every layer in a worker, with progress, and keeps the result with the library entry', async () => {
    service = await openWorkbench({ mode: 'browser', dataDir: tmp.dir, resourcesDir, runtime, firstRunDemo: false })
    const s = service
    await expect(s.checkSaeFit({ saeId: 'demo:esm2', modelId: 'demo:esm2' })).rejects.toThrow(/is not an SAE/)
    const events: JobEvent[] = []
    s.onJobEvent(e => events.push(e))
    const job = await s.checkSaeFit({ saeId: 'demo:sae', modelId: 'demo:esm2', layers: 'all' })
    expect(job).toMatchObject({ kind: 'sae-fit', entryId: 'demo:sae', state: 'running' })
    // asked again while it runs: the same job
    expect((await s.checkSaeFit({ saeId: 'demo:sae', modelId: 'demo:esm2', layers: 'all' })).id).toBe(job.id)
    const ended = await s.jobs.waitFor(job.id)
    expect(ended.state, ended.error).toBe('done')
    const checking = events.filter(e => e.job.id === job.id && e.job.progress.phase === 'checking the fit on 7 layers')
    expect(checking.length).toBeGreaterThan(0)
    expect(checking.some(e => e.job.progress.rate! > 0 && e.job.progress.etaSeconds !== undefined)).toBe(true)

    const entry = (await s.listModels({})).find(m => m.id === 'demo:sae')!
    const fit = entry.fit!
    expect(fit).toMatchObject({ modelId: 'demo:esm2', sample: 'the demo set', declaredLayer: 4 })
    expect(fit.layers.map(l => l.layer)).toEqual([0, 1, 2, 3, 4, 5, 6])

    // the engine's check on the same sample, in this thread
    const model = await Esm2Model.open(await importEsm2(s.models.resolve('demo:esm2').dir, s.modelCache), runtime)
    try {
      const sae = await loadSae(s.models.resolve('demo:sae').dir, { layer: 4 })
      const proteins = await sampleProteins(
        join(resourcesDir, 'demo', 'swissprot-100.dat'),
        model.window,
        FIT_SAMPLE_PROTEINS,
        FIT_SAMPLE_RESIDUES
      )
      const report = await checkSaeFit(model, { ...sae, layer: 4 }, proteins, { layers: [0, 1, 2, 3, 4, 5, 6] })
      expect(fit.proteins).toBe(report.proteins)
      expect(fit.residues).toBe(report.residues)
      expect(fit.bestLayer).toBe(report.bestLayer)
      expect(fit.warnings).toEqual(report.warnings)
      for (const [i, l] of fit.layers.entries()) {
        const r = report.layers[i]
        for (const k of ['fvu', 'cosine', 'l0', 'deadFraction', 'denseFraction', 'recoveredVsZero'] as const)
          expect(l[k], `layer ${l.layer} ${k}`).toBeCloseTo(r[k], 4)
      }
    } finally {
      await model.close()
    }
  }, 600_000)
})
