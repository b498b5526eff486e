/**
 * `plm-sae index` with concept scoring options, then `plm-sae annotate` in-process: a tiny random ESM2 + a
 * preprint-format SAE over a UniProt file with annotations; the report (JSON and TSV) is checked against the
 * run's stored latents and predictors, and its agreement against the input's annotations.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from './helpers/cli'
import { LatentStore } from '../src/main/engine/store/latent-store'
import { trackOf } from '../src/main/engine/store/latent-codec'
import type { ConceptReport } from '../src/shared/store-types'
import { writeHfCheckpoint } from './fixtures/esm2-checkpoint'
import { writePreprintSae } from './fixtures/sae-checkpoints'
import { tempDir } from './helpers/tmp'

const tmp = tempDir('annotate-cli')
const modelDir = join(tmp.dir, 'model')
const saeDir = join(tmp.dir, 'sae')
const input = join(tmp.dir, 'entries.dat')
const db = join(tmp.dir, 'project.sqlite')
const cache = join(tmp.dir, 'cache')

beforeAll(async () => {
  // the fixture's well-formed entries (it also holds bad ones, for the reader's tests)
  const entries = readFileSync(join(__dirname, 'fixtures', 'uniprot-current.dat'), 'utf8').split(/^\/\/\n/m)
  writeFileSync(
    input,
    entries
      .filter(e => /^ID {3}(INS_HUMAN|ZN_TEST|GOOD_AFTER) /m.test(e))
      .map(e => `${e.replace(/^\n+/, '')}//\n`)
      .join('')
  )
  writeHfCheckpoint(modelDir, 'tiny', 21, { omitTiedDecoder: true })
  writePreprintSae(saeDir, { dIn: 32, dSae: 24 }, 22, { block: 1 })
  const r = await runCli([
    'index',
    '--model',
    modelDir,
    '--sae',
    saeDir,
    '--input',
    input,
    '--db',
    db,
    '--device',
    'cpu',
    '--cache-dir',
    cache,
    '--false-positives',
    'all',
    '--split-concepts',
    'zinc_finger,binding_site',
    '-q'
  ])
  expect(r.err).toBe('')
  expect(r.code).toBe(0)
})
afterAll(() => tmp.cleanup())

describe('plm-sae annotate', () => {
  it('index records the concept scoring and the model and SAE folders with the run', () => {
    const store = LatentStore.open(db)
    const run = store.runs()[0]
    expect(run.settings).toMatchObject({
      concepts: { falsePositives: 'all', splitTypes: ['zinc_finger', 'binding_site'], minInstances: 1 },
      modelDir,
      saeDir
    })
    const f = store.features.list({ status: 'alive', limit: 1 }).items[0].id
    expect(store.features.detail(f).conceptScoring).toEqual({
      falsePositives: 'all',
      splitTypes: ['zinc_finger', 'binding_site'],
      minInstances: 1
    })
    store.close()
  })

  it('writes a JSON report: predicted tracks from the predictors, predicted against known', async () => {
    const out = join(tmp.dir, 'report.json')
    const r = await runCli([
      'annotate',
      '--db',
      db,
      '--input',
      input,
      '--out',
      out,
      '--floor',
      '0',
      '--device',
      'cpu',
      '--cache-dir',
      cache,
      '-q'
    ])
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    const report = JSON.parse(readFileSync(out, 'utf8')) as ConceptReport
    const store = LatentStore.open(db)
    const { predictors } = store.features.conceptPredictors(report.runId, 0)
    expect(report.predictors).toBe(new Set(predictors.map(p => p.feature)).size)
    expect(report.sequences.length).toBe(3)
    let compared = 0
    for (const s of report.sequences) {
      const p = store.proteins.get(s.id)!
      expect(s.sequence).toBe(p.sequence)
      const m = store.latents(report.runId, p.id)!
      for (const t of s.predicted) {
        const mine = predictors.filter(q => q.type === t.type && q.note === t.note)
        // stored latents are rounded to half precision: compare where the stored value is clearly off the cut
        for (let r0 = 0; r0 < p.length; r0++) {
          let sure = 0
          let unsure = 0
          for (const q of mine) {
            const v = trackOf(m, q.feature)[r0]
            if (Math.abs(v - q.cut) <= 2e-3 * Math.max(1, q.cut)) unsure++
            else if (v > q.cut) sure++
          }
          expect(t.support[r0]).toBeGreaterThanOrEqual(sure)
          expect(t.support[r0]).toBeLessThanOrEqual(sure + unsure)
          compared++
        }
      }
      if (p.annotations.length > 0) {
        expect(s.known).toEqual(p.annotations)
        for (const a of s.agreement!) {
          const pred = s.predicted.find(t => t.type === a.type && t.note === a.note)
          const predictedCount = pred ? pred.support.filter(v => v > 0).length : 0
          expect(a.predicted).toBe(predictedCount)
          expect(a.both).toBeLessThanOrEqual(Math.min(a.predicted, a.known))
        }
      }
    }
    expect(compared).toBeGreaterThan(0)
    expect(report.family!.reference).toBe(report.sequences[0].id)
    store.close()
  })

  it('writes a TSV report and explains a bad output name', async () => {
    const out = join(tmp.dir, 'report.tsv')
    const r = await runCli([
      'annotate',
      '--db',
      db,
      '--input',
      input,
      '--out',
      out,
      '--floor',
      '0',
      '--device',
      'cpu',
      '--cache-dir',
      cache,
      '-q'
    ])
    expect(r.code).toBe(0)
    const lines = readFileSync(out, 'utf8').trim().split('\n')
    expect(lines[0].startsWith('section\tsequence\tconcept')).toBe(true)
    expect(lines.some(l => l.startsWith('agreement\t'))).toBe(true)
    const bad = await runCli([
      'annotate',
      '--db',
      db,
      '--input',
      input,
      '--out',
      join(tmp.dir, 'report.txt'),
      '--device',
      'cpu',
      '-q'
    ])
    expect(bad.code).toBe(1)
    expect(bad.err).toContain('.json or .tsv')
  })
})
