/**
 * The store under concurrent writers and faults, and "nothing wrong is marked complete" (issue 17): writes
 * wait for another process's writes (IMMEDIATE transactions + busy timeout) instead of failing with
 * "database is locked"; one indexer per store (the writer lock names its holder; a dead holder's lock is taken
 * over); a job whose store file is deleted stops; an empty input is an error and a failed attempt leaves a
 * complete run as it was; runs whose latents look broken get warnings; another application's SQLite file is
 * refused and left unchanged. Real SQLite files and real second processes; the latents come from a synthetic
 * source (the model is not what is tested here).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { IndexJob, type IndexJobOptions } from '../src/main/engine/jobs/index-job'
import { LatentStore } from '../src/main/engine/store/latent-store'
import { acquireWriterLock, writerLockPath } from '../src/main/engine/store/store-lock'
import { randomProtein } from './helpers/compare'
import { syntheticSource } from './helpers/synthetic-source'
import { tempDir } from './helpers/tmp'

const ROOT = join(__dirname, '..')
const tmp = tempDir('store-integrity')
const children: ChildProcess[] = []
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  tmp.cleanup()
})

function fastaOf(name: string, n: number, from = 0): string {
  const lines: string[] = []
  for (let i = from; i < from + n; i++)
    lines.push(`>P${String(i).padStart(5, '0')} protein ${i}`, randomProtein(20 + (i % 40), 1000 + i))
  const path = join(tmp.dir, name)
  writeFileSync(path, `${lines.join('\n')}\n`)
  return path
}

function job(store: LatentStore, input: string, extra: Partial<IndexJobOptions> = {}): IndexJob {
  return new IndexJob({
    store,
    input,
    source: syntheticSource(),
    model: { name: 'model', hash: 'model-hash' },
    sae: { name: 'sae', hash: 'sae-hash' },
    topK: 3,
    batchProteins: 4,
    ...extra
  })
}

/** Starts test/helpers/store-writer-child.ts and resolves once it printed `line`. */
function child(args: string[], line: string): Promise<{ proc: ChildProcess; output: () => string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/helpers/store-writer-child.ts'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  children.push(proc)
  let out = ''
  let err = ''
  return new Promise((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes(`${line}\n`)) resolve({ proc, output: () => out })
    })
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()))
    proc.on('exit', code => {
      if (!out.includes(`${line}\n`)) reject(new Error(`child exited (${code}) before "${line}": ${err}`))
    })
  })
}

const exited = (p: ChildProcess): Promise<void> =>
  p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise(r => p.once('exit', () => r()))

describe('one writer at a time', () => {
  it("waits for another process's writes instead of failing with 'database is locked'", async () => {
    const db = join(tmp.dir, 'busy.sqlite')
    const store = LatentStore.open(db)
    await job(store, fastaOf('busy-a.fasta', 8)).run()
    // Many stored proteins first: each addProteins reads them all before its one insert, a wide window in which
    // the other process commits. A deferred transaction then fails at once ("database is locked").
    const existing = Array.from({ length: 20_000 }, (_, i) => ({
      accession: `E${i}`,
      name: '',
      organism: '',
      description: '',
      sequence: 'MKV',
      annotations: []
    }))
    store.addProteins(existing)
    const other = await child(['labels', db, '2500'], 'ready')
    let calls = 0
    while (other.proc.exitCode === null) {
      store.addProteins([
        ...existing,
        { accession: `NEW${calls}`, name: '', organism: '', description: '', sequence: 'MKVL', annotations: [] }
      ])
      calls++
      await new Promise(r => setImmediate(r))
    }
    await exited(other.proc)
    expect(other.proc.exitCode).toBe(0)
    expect(Number(/edits (\d+)/.exec(other.output())![1])).toBeGreaterThan(10)
    expect(calls).toBeGreaterThan(3)
    expect(store.db.prepare("SELECT COUNT(*) FROM proteins WHERE accession LIKE 'NEW%'").pluck().get()).toBe(calls)
    store.close()
  })

  it('indexes while another process edits labels at a brisk pace', async () => {
    const db = join(tmp.dir, 'labels.sqlite')
    const store = LatentStore.open(db)
    await job(store, fastaOf('labels-a.fasta', 4)).run()
    const other = await child(['labels', db, '3000'], 'ready')
    const res = await job(store, fastaOf('labels-b.fasta', 150, 100), { batchProteins: 1 }).run()
    await exited(other.proc)
    expect(other.proc.exitCode).toBe(0)
    expect(res.proteinsIndexed).toBe(150)
    expect(store.run(res.runId)).toMatchObject({ status: 'complete', proteins: 154, statsUpToDate: true })
    store.close()
  })

  it("refuses a second indexer naming the holder's pid, command and start; takes over the lock of a dead process", async () => {
    const db = join(tmp.dir, 'project.sqlite')
    const input = fastaOf('lock.fasta', 6)
    LatentStore.open(db).close()
    const holder = await child(['lock', db], 'locked')
    const store = LatentStore.open(db)
    const err = await job(store, input)
      .run()
      .then(
        () => undefined,
        (e: Error) => e
      )
    expect(err?.message).toMatch(
      new RegExp(
        `^project\\.sqlite is being indexed by pid ${holder.proc.pid} \\(plm-sae index --input other\\.fasta \\(test holder\\)\\) since \\d{4}-\\d\\d-\\d\\dT[^;]+; wait for it to finish or cancel it`
      )
    )
    expect(store.runs()).toEqual([]) // the refused job changed nothing
    holder.proc.kill('SIGKILL')
    await exited(holder.proc)
    expect(existsSync(writerLockPath(db))).toBe(true) // left behind by kill -9
    const res = await job(store, input).run()
    expect(store.run(res.runId)).toMatchObject({ status: 'complete', proteins: 6 })
    expect(existsSync(writerLockPath(db))).toBe(false) // released at the end
    // in this process too: a held lock refuses the job, a released one does not
    const lock = acquireWriterLock(store, 'another job')
    await expect(job(store, input).run()).rejects.toThrow(/being indexed by pid \d+ \(another job\)/)
    lock.release()
    await expect(job(store, input).run()).resolves.toMatchObject({ skippedExisting: 6 })
    store.close()
  })

  it('stops a job whose project folder is deleted while it runs, with a message', async () => {
    const dir = join(tmp.dir, 'doomed-project')
    mkdirSync(dir)
    const store = LatentStore.open(join(dir, 'project.sqlite'))
    const input = fastaOf('doomed.fasta', 40)
    const source = syntheticSource({
      delayMs: 5,
      onProtein: n => n === 6 && rmSync(dir, { recursive: true, force: true })
    })
    await expect(job(store, input, { source, batchProteins: 2 }).run()).rejects.toThrow(
      /project\.sqlite was deleted while this job was writing to it .*the job stopped/
    )
    store.close()
    expect(existsSync(dir)).toBe(false)
  })
})

describe('a full disk', () => {
  it('stops the job with a message naming the file, the space needed and what to do; what finished is kept', async () => {
    const store = LatentStore.open(join(tmp.dir, 'full.sqlite'))
    const input = fastaOf('full.fasta', 200)
    const source = (): ReturnType<typeof syntheticSource> => syntheticSource({ perResidue: 40, dSae: 256 })
    await job(store, fastaOf('full-first.fasta', 4, 1000), { source: source() }).run()
    // SQLite's own "database or disk is full" (SQLITE_FULL), as on a full disk: the file may not grow past this.
    const pages = store.db.pragma('page_count', { simple: true }) as number
    store.db.pragma(`max_page_count = ${pages + 8}`)
    const err = await job(store, input, { batchProteins: 2, source: source() })
      .run()
      .then(
        () => undefined,
        (e: Error) => e
      )
    expect(err?.name).toBe('DiskFullError')
    expect(err?.message).toMatch(
      /^The disk is full: writing .*full\.sqlite needs about [\d.]+ [kMG]B more \([\d.]+ [kMG]?B free there\)\. Free space on that disk, or use a disk with room \(set PLM_SAE_HOME to a folder there; on the command line also --db \/ --cache-dir\), then run again; what finished is kept; run the same command again to resume\.$/
    )
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok')
    store.db.pragma('max_page_count = 1073741823')
    const done = await job(store, input, { batchProteins: 2, source: source() }).run()
    expect(done.skippedExisting).toBeGreaterThan(0) // resumed after what the full disk had let through
    expect(store.run(done.runId)).toMatchObject({ status: 'complete', proteins: 204 })
    store.close()
  })

  it('says the same for ENOSPC from the OS, and nothing for other errors', async () => {
    const { diskFullError } = await import('../src/main/engine/fs/files')
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
    expect(
      diskFullError(enospc, join(tmp.dir, 'models', 'weights.bin'), 31_400_000, 'nothing was added to the model cache')
        ?.message
    ).toMatch(
      /^The disk is full: writing .*weights\.bin needs about 31\.4 MB more \(.* free there\)\..*then run again; nothing was added to the model cache\.$/
    )
    expect(diskFullError(new Error('other'), 'x', 1, '')).toBeUndefined()
  })
})

describe('nothing wrong is marked complete', () => {
  it('an empty input is an error and changes nothing', async () => {
    const store = LatentStore.open(join(tmp.dir, 'empty.sqlite'))
    const empty = join(tmp.dir, 'empty.fasta')
    writeFileSync(empty, '\n\n;comment only\n')
    await expect(job(store, empty).run()).rejects.toThrow(/empty\.fasta: no protein records found/)
    await expect(job(store, empty, { countFirst: false }).run()).rejects.toThrow(/no protein records found/)
    expect(store.runs().filter(r => r.proteins > 0)).toEqual([])
    store.close()
  })

  it('a bad or empty input on a complete store leaves the run complete, with its recorded input', async () => {
    const store = LatentStore.open(join(tmp.dir, 'complete.sqlite'))
    const good = fastaOf('good.fasta', 10)
    const res = await job(store, good).run()
    const before = store.run(res.runId)!
    expect(before).toMatchObject({ status: 'complete', settings: { input: good } })
    const bad = join(tmp.dir, 'bad.fasta')
    writeFileSync(bad, '>X1 a bad record\nMKV1LL\n')
    await expect(job(store, bad, { onBadRecord: 'stop' }).run()).rejects.toThrow(/bad record "X1"/)
    expect(store.run(res.runId)).toEqual(before)
    const empty = join(tmp.dir, 'empty2.fasta')
    writeFileSync(empty, '')
    await expect(job(store, empty, { countFirst: false }).run()).rejects.toThrow(/no protein records found/)
    expect(store.run(res.runId)).toEqual(before)
    // a cancelled attempt that stored nothing new leaves it complete too
    const ctrl = new AbortController()
    ctrl.abort()
    await expect(job(store, fastaOf('more.fasta', 5, 500), { signal: ctrl.signal }).run()).resolves.toMatchObject({
      cancelled: true
    })
    expect(store.run(res.runId)).toMatchObject({ status: 'complete', settings: { input: good } })
    store.close()
  })

  it('flags a run whose latents look broken: none at all, denser than any SAE, more than TopK allows', async () => {
    const input = fastaOf('sanity.fasta', 12)
    const cases = [
      {
        name: 'dead',
        source: syntheticSource({ mode: 'dead' }),
        warning: /No feature fired on any of the \d+ residues \(all 64 features are dead\)/
      },
      {
        name: 'dense',
        source: syntheticSource({ mode: 'sparse', dSae: 2048, perResidue: 400 }),
        warning: /400\.0 of the 2048 features fire per residue \(19\.5%\), far from sparse/
      },
      {
        name: 'topk',
        source: syntheticSource({ perResidue: 8, maxActivePerResidue: 4 }),
        warning: /8\.0 features fire per residue, but this TopK SAE keeps at most 4/
      },
      {
        name: 'fine',
        source: syntheticSource({ perResidue: 4, maxActivePerResidue: 4, dSae: 2048 }),
        warning: undefined
      }
    ]
    for (const c of cases) {
      const store = LatentStore.open(join(tmp.dir, `sanity-${c.name}.sqlite`))
      const res = await job(store, input, { source: c.source }).run()
      const run = store.run(res.runId)!
      expect(run.status).toBe('complete')
      if (c.warning) {
        expect(res.warnings).toEqual([expect.stringMatching(c.warning)])
        expect(run.warnings).toEqual(res.warnings)
      } else {
        expect(res.warnings).toBeUndefined()
        expect(run.warnings).toBeUndefined()
      }
      store.close()
    }
  })

  it("refuses another application's SQLite file and leaves it unchanged", () => {
    const path = join(tmp.dir, 'other-app.sqlite')
    const other = new Database(path)
    other.exec(
      "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('Ada')"
    )
    other.close()
    const hash = (): string => createHash('sha256').update(readFileSync(path)).digest('hex')
    const before = hash()
    expect(() => LatentStore.open(path)).toThrow(
      /other-app\.sqlite: not a PLM-SAE store \(an SQLite database of another application, with tables customers\); .*the file was not changed/
    )
    expect(hash()).toBe(before)
    expect(existsSync(`${path}-wal`)).toBe(false)
    const marked = join(tmp.dir, 'marked.sqlite')
    const m = new Database(marked)
    m.pragma('application_id = 1234')
    m.close()
    expect(() => LatentStore.open(marked)).toThrow(/another application: SQLite application_id 0x4d2/)
    const versioned = join(tmp.dir, 'versioned.sqlite')
    const v = new Database(versioned)
    v.pragma('user_version = 7')
    v.close()
    expect(() => LatentStore.open(versioned)).toThrow(/user_version 7/)
    // our own stores: new and reopened; marked with our application_id
    const ours = LatentStore.open(join(tmp.dir, 'ours.sqlite'))
    expect(ours.db.pragma('application_id', { simple: true })).toBe(0x504c4d53)
    ours.close()
    LatentStore.open(join(tmp.dir, 'ours.sqlite')).close()
  })
})
