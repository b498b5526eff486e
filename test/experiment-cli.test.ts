/**
 * `plm-sae experiment` through the real command parser: the exports (CSV per sequence, JSON summary, FASTA
 * per condition with provenance, SVG plots, a self-contained HTML report), resuming a complete experiment
 * without generating again, readable errors, and a kill -9 of the command mid-way followed by a rerun that
 * stores exactly the rows of an uninterrupted run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { writeHfCheckpoint } from './fixtures/esm2-checkpoint'
import { randomProtein } from './helpers/compare'
import { tempDir } from './helpers/tmp'
import { writePreprintSaeDir } from './steer-helpers'
import { runCli } from './helpers/cli'
import type { ExperimentDesign, ExperimentSummary } from '../src/shared/experiment-types'

const ROOT = resolve(__dirname, '..')
const tmp = tempDir('experiment-cli')
const model = join(tmp.dir, 'model')
const sae = join(tmp.dir, 'sae')
const cache = join(tmp.dir, 'cache')
const reference = join(tmp.dir, 'reference.fasta')
const designFile = join(tmp.dir, 'design.json')

const design: ExperimentDesign = {
  name: 'CLI experiment',
  start: { kind: 'sequences', sequences: [{ id: 'P1', sequence: randomProtein(28, 4) }] },
  generation: { mode: 'resample', temperature: 1, rounds: 2, maskFraction: 0.2 },
  n: 8,
  seed: 3,
  clampSets: [
    { name: 'first', clamps: [{ feature: 5, mode: 'multiple-of-max', value: 1 }] },
    { clamps: [{ feature: 12, mode: 'absolute', value: 3 }] }
  ],
  doses: [0.5, 1, 2, 4, 8],
  controls: { noClamp: true, ablation: true, randomDraws: 3 },
  pll: 'strided',
  pllStride: 4,
  success: { kind: 'activation' },
  bootstrap: 200,
  permutations: 200
}

const args = (out: string, db: string): string[] => [
  'experiment',
  '--design',
  designFile,
  '--model',
  model,
  '--sae',
  sae,
  '--cache-dir',
  cache,
  '--device',
  'cpu',
  '--threads',
  '1',
  '--reference',
  reference,
  '--db',
  db,
  '--out',
  out,
  '-q'
]

function rows(db: string): unknown[] {
  const d = new Database(db, { readonly: true })
  try {
    return d
      .prepare(
        'SELECT condition_idx, seq_index, sequence, outcomes, hex(feature_means) FROM experiment_sequences ORDER BY condition_idx, seq_index'
      )
      .all()
  } finally {
    d.close()
  }
}

describe('plm-sae experiment', () => {
  beforeAll(() => {
    writeHfCheckpoint(model, 'tiny', 5, { omitTiedDecoder: true })
    writePreprintSaeDir(sae, 32, 64, 1, 17)
    writeFileSync(reference, Array.from({ length: 10 }, (_, i) => `>r${i}\n${randomProtein(35, 50 + i)}\n`).join(''))
    writeFileSync(designFile, JSON.stringify(design))
  })
  afterAll(() => tmp.cleanup())

  it('writes CSV, JSON, FASTA per condition, SVG plots and an HTML report; a rerun resumes', async () => {
    const out = join(tmp.dir, 'out')
    const db = join(tmp.dir, 'full.sqlite')
    const r = await runCli(args(out, db))
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    const summary = JSON.parse(readFileSync(join(out, 'experiment.json'), 'utf8')) as ExperimentSummary
    const conditions = 1 + 2 * (5 + 1 + 3)
    expect(summary.conditions).toHaveLength(conditions)
    expect(summary.provenance.pllMethod).toBe('strided (4 groups)')
    expect(summary.provenance.featureStatistics).toContain('reference.fasta (10 proteins, 350 residues)')
    const csv = readFileSync(join(out, 'sequences.csv'), 'utf8').trim().split('\n')
    expect(csv).toHaveLength(1 + conditions * 8)
    expect(csv[0]).toContain('pll_per_residue')
    expect(csv[0]).toContain('target_set2')
    const fastas = readdirSync(join(out, 'fasta'))
    expect(fastas).toHaveLength(conditions)
    const dose = readFileSync(join(out, 'fasta', 'set1-dose5.fasta'), 'utf8')
    const headers = dose.split('\n').filter(l => l.startsWith('>'))
    expect(headers).toHaveLength(8)
    expect(headers[0]).toMatch(
      new RegExp(
        `^>${summary.id}\\|set1/dose5\\|0 experiment=${summary.id} model=model .* layer=2 condition="first × 8" clamps=5:multiple-of-max:8 mode=resample seed=3 .* start=P1 identity=`
      )
    )
    for (const p of ['dose-response-target', 'distribution-target', 'screening-f1-vs-effect', 'dose-response-pll']) {
      expect(readFileSync(join(out, 'plots', `${p}.svg`), 'utf8')).toMatch(
        /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/
      )
    }
    const html = readFileSync(join(out, 'report.html'), 'utf8')
    expect(html).toContain('<h1>CLI experiment</h1>')
    expect(html.match(/<svg /g)?.length).toBeGreaterThanOrEqual(5)
    expect(html).not.toMatch(/<script|src="http/)
    // the same command again: the experiment is found complete, the rows are unchanged
    const before = rows(db)
    expect((await runCli(args(join(tmp.dir, 'out2'), db))).code).toBe(0)
    expect(rows(db)).toEqual(before)
  }, 300_000)

  it('resumes after kill -9 to the rows of an uninterrupted run', async () => {
    const db = join(tmp.dir, 'killed.sqlite')
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'test/helpers/experiment-child.ts'), ...args(join(tmp.dir, 'killed'), db)],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] }
    )
    let stderr = ''
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    const exited = new Promise<string | null>(res => child.on('exit', (_c, signal) => res(signal)))
    let killedWith = 0
    for (;;) {
      await new Promise(r => setTimeout(r, 25))
      if (child.exitCode !== null) break
      if (!existsSync(db)) continue
      let n: number
      try {
        n = rows(db).length
      } catch {
        continue
      }
      if (n >= 8) {
        child.kill('SIGKILL')
        killedWith = n
        break
      }
    }
    expect(await exited, `the child finished before the kill: ${stderr}`).toBe('SIGKILL')
    expect(killedWith).toBeGreaterThan(0)
    const partial = rows(db).length
    expect(partial).toBeLessThan(19 * 8)
    expect(partial % 8).toBe(0)
    expect((await runCli(args(join(tmp.dir, 'killed'), db))).code).toBe(0)
    expect(rows(db)).toEqual(rows(join(tmp.dir, 'full.sqlite')))
  }, 300_000)

  it('explains bad designs', async () => {
    const bad = join(tmp.dir, 'bad.json')
    writeFileSync(bad, JSON.stringify({ ...design, doses: [] }))
    const r = await runCli([
      'experiment',
      '--design',
      bad,
      '--model',
      model,
      '--sae',
      sae,
      '--out',
      join(tmp.dir, 'bad'),
      '-q'
    ])
    expect(r.code).toBe(1)
    expect(r.err).toMatch(/design.doses: a non-empty list/)
    writeFileSync(
      bad,
      JSON.stringify({ ...design, clampSets: [{ clamps: [{ feature: 640, mode: 'absolute', value: 1 }] }] })
    )
    const r2 = await runCli(
      [...args(join(tmp.dir, 'bad2'), join(tmp.dir, 'bad2.sqlite'))].map(a => (a === designFile ? bad : a))
    )
    expect(r2.code).toBe(1)
    expect(r2.err).toMatch(/feature 640 does not exist/)
  }, 120_000)
})
