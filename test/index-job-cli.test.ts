/**
 * `plm-sae index` in-process (the same `main` the bin runs): a tiny random ESM2 + a preprint-format SAE over
 * a FASTA file; the second run does no work; bad records stop the run (exit 1, file:line:id) or are skipped.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from './helpers/cli'
import { LatentStore } from '../src/main/engine/store/latent-store'
import type { IndexResult } from '../src/shared/store-types'
import { writeHfCheckpoint } from './fixtures/esm2-checkpoint'
import { writePreprintSae } from './fixtures/sae-checkpoints'
import { randomProtein } from './helpers/compare'
import { tempDir } from './helpers/tmp'

const tmp = tempDir('index-cli')
const modelDir = join(tmp.dir, 'model')
const saeDir = join(tmp.dir, 'sae')
const fasta = join(tmp.dir, 'in.fasta')
const db = join(tmp.dir, 'project.sqlite')

beforeAll(() => {
  writeHfCheckpoint(modelDir, 'tiny', 21, { omitTiedDecoder: true })
  writePreprintSae(saeDir, { dIn: 32, dSae: 24 }, 22, { block: 1 })
  const lines: string[] = []
  for (let i = 0; i < 12; i++) lines.push(`>seq${i} protein ${i}`, randomProtein(10 + i * 3, 300 + i))
  lines.splice(6, 0, '>bad1 has a digit', 'MKV1LL')
  writeFileSync(fasta, `${lines.join('\n')}\n`)
})
afterAll(() => tmp.cleanup())

const base = () => [
  'index',
  '--model',
  modelDir,
  '--sae',
  saeDir,
  '--input',
  fasta,
  '--db',
  db,
  '--device',
  'cpu',
  '--cache-dir',
  join(tmp.dir, 'cache'),
  '--top-k',
  '4'
]

describe('plm-sae index', () => {
  it('stops at a bad record by default, naming file, line and id', async () => {
    const r = await runCli(base())
    expect(r.code).toBe(1)
    expect(r.err).toContain(`${fasta}:7: bad record "bad1"`)
    expect(r.err).toContain('--on-bad-record skip')
  })

  it('indexes with --on-bad-record skip, then a second run does no work', async () => {
    const first = await runCli([...base(), '--on-bad-record', 'skip', '--json'])
    expect(first.code).toBe(0)
    const res = JSON.parse(first.out) as IndexResult
    expect(res.proteinsIndexed + res.skippedExisting).toBe(12)
    expect(res.badRecords.map(b => [b.line, b.id])).toEqual([[7, 'bad1']])
    expect(first.err).toMatch(/skipped bad record: .*in\.fasta:7 \(bad1\)/)
    expect(first.err).toMatch(/bytes of latents per residue/)
    const second = await runCli([...base(), '--on-bad-record', 'skip', '--json'])
    expect(second.code).toBe(0)
    expect(JSON.parse(second.out)).toMatchObject({
      proteinsAdded: 0,
      proteinsIndexed: 0,
      residuesIndexed: 0,
      skippedExisting: 12
    })
    const store = LatentStore.open(db)
    expect(store.runs()).toMatchObject([
      { status: 'complete', proteins: 12, dSae: 24, layer: 2, statsUpToDate: true, settings: { topK: 4 } }
    ])
    expect(
      store.features.detail(store.features.list({ status: 'alive', limit: 1 }).items[0].id).topProteins.length
    ).toBeLessThanOrEqual(4)
    store.close()
  })

  it("exits non-zero on an empty FASTA and on another application's SQLite file, changing nothing", async () => {
    const empty = join(tmp.dir, 'empty.fasta')
    writeFileSync(empty, '')
    const emptyDb = join(tmp.dir, 'empty.sqlite')
    const r = await runCli([...base().slice(0, -2), '--input', empty, '--db', emptyDb])
    expect(r.code).toBe(1)
    expect(r.err).toContain(`${empty}: no protein records found`)
    const foreign = join(tmp.dir, 'foreign.sqlite')
    const f = new Database(foreign)
    f.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)')
    f.close()
    const before = readFileSync(foreign)
    const r2 = await runCli(base().map(a => (a === db ? foreign : a)))
    expect(r2.code).toBe(1)
    expect(r2.err).toMatch(
      /foreign\.sqlite: not a PLM-SAE store \(an SQLite database of another application, with tables notes\)/
    )
    expect(readFileSync(foreign).equals(before)).toBe(true)
  })

  it('exits 130 after Ctrl-C, keeping what finished', async () => {
    const big = join(tmp.dir, 'big.fasta')
    const lines: string[] = []
    for (let i = 0; i < 400; i++) lines.push(`>big${i}`, randomProtein(30, 900 + i))
    writeFileSync(big, `${lines.join('\n')}\n`)
    const before = process.listenerCount('SIGINT')
    // Ctrl-C as soon as the command listens for it (before or during the indexing).
    const timer = setInterval(() => {
      if (process.listenerCount('SIGINT') > before) {
        clearInterval(timer)
        process.emit('SIGINT')
      }
    }, 1)
    const r = await runCli([
      ...base().slice(0, -2),
      '--input',
      big,
      '--db',
      join(tmp.dir, 'cancelled.sqlite'),
      '--batch-proteins',
      '1'
    ])
    clearInterval(timer)
    expect(r.err).toContain('cancelling')
    expect(r.code).toBe(130)
  })

  it('explains every option in --help', async () => {
    const r = await runCli(['index', '--help'])
    for (const opt of ['--model', '--sae', '--input', '--db', '--top-k', '--on-bad-record', '--batch-proteins'])
      expect(r.out).toContain(opt)
  })
})
