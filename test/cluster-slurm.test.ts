/**
 * The sharded index on a REAL Slurm scheduler (single node; `.ci/slurm.sh start` brings one up from Debian's
 * packages, `.ci/run` does so in CI): `plm-sae cluster slurm` writes the array job, sbatch runs one task per
 * shard with the built command line, one task is killed mid-run by `scontrol requeue` and resumes from its
 * store, then `plm-sae merge` combines the shards and the result equals a single-machine run of the same input
 * (proteins, latent blobs, every per-feature statistic).
 *
 * Skipped, with the reason, only when no Slurm answers on this machine; in CI (CI=true) it must run.
 */
import Database from 'better-sqlite3'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { importEsm2 } from '../src/main/engine/esm/esm2-import'
import { writeHfCheckpoint } from './fixtures/esm2-checkpoint'
import { writePreprintSae } from './fixtures/sae-checkpoints'
import { runCli } from './helpers/cli'
import { dumpStore } from './helpers/store-dump'
import { tempDir } from './helpers/tmp'

const ROOT = join(__dirname, '..')
const UNIPROT_20K = join(ROOT, '..', 'shared', 'data', 'sequences', 'uniprot-20k.fasta.gz')
const SHARDS = 3
const SEQUENCES = 450

/** Why Slurm cannot be used here, or '' when a node is up. */
function slurmUnavailable(): string {
  const r = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8', timeout: 10_000 })
  if (r.error)
    return `sinfo not found (${(r.error as NodeJS.ErrnoException).code}): no Slurm on this machine; start one with "bash .ci/slurm.sh start"`
  if (r.status !== 0)
    return `sinfo failed: ${(r.stderr || r.stdout).trim()}; start Slurm with "bash .ci/slurm.sh start"`
  if (!/^(idle|mixed|allocated)/m.test(r.stdout)) return `no Slurm node is up (sinfo: ${r.stdout.trim() || 'none'})`
  return ''
}

const why = slurmUnavailable()
const mustRun = process.env.CI === 'true' || process.env.CI === '1'

const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms))

async function until<T>(what: string, seconds: number, probe: () => T | undefined | false): Promise<T> {
  const end = Date.now() + seconds * 1000
  for (;;) {
    const v = probe()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out after ${seconds} s waiting for ${what}`)
    await sleep(100)
  }
}

/** Latent rows and run status of a shard store while its task writes it (undefined before it exists). */
function shardProgress(path: string): { latents: number; status: string } | undefined {
  if (!existsSync(path)) return undefined
  let db: Database.Database | undefined
  try {
    db = new Database(path, { readonly: true, fileMustExist: true })
    const status = db.prepare('SELECT status FROM runs ORDER BY id LIMIT 1').pluck().get() as string | undefined
    const latents = db.prepare('SELECT COUNT(*) FROM latents').pluck().get() as number
    return status === undefined ? undefined : { latents, status }
  } catch {
    return undefined // created but not migrated yet
  } finally {
    db?.close()
  }
}

function arrayTasks(jobId: string): { task: string; state: string; exit: string; restarts: number }[] {
  const out = execFileSync('scontrol', ['-o', 'show', 'job', jobId], { encoding: 'utf8' })
  return out
    .split('\n')
    .filter(l => l.includes('ArrayTaskId='))
    .map(l => ({
      task: /ArrayTaskId=(\S+)/.exec(l)![1],
      state: /JobState=(\S+)/.exec(l)![1],
      exit: /ExitCode=(\S+)/.exec(l)![1],
      restarts: Number(/Restarts=(\d+)/.exec(l)?.[1] ?? 0)
    }))
}

describe.skipIf(why !== '' && !mustRun)(
  `plm-sae on a real Slurm scheduler${why && !mustRun ? ` (skipped: ${why})` : ''}`,
  () => {
    const tmp = tempDir('slurm')
    const dir = tmp.dir
    const input = join(dir, 'input.fasta')
    const model = join(dir, 'model')
    const sae = join(dir, 'sae')
    const cache = join(dir, 'cache')
    const script = join(dir, 'index.sbatch')
    const shardStore = (i: number): string => join(dir, 'shards', `shard-${i}-of-${SHARDS}.sqlite`)
    let generated = { out: '', err: '' }
    let jobId = ''

    beforeAll(async () => {
      if (why) throw new Error(`CI must run the Slurm test, but ${why}`)
      execFileSync('npm', ['run', 'build:cli'], { cwd: ROOT, stdio: 'pipe' })
      writeHfCheckpoint(model, 'tiny', 3, { omitTiedDecoder: true })
      writePreprintSae(sae, { dIn: 32, dSae: 48 }, 4, { block: 1 })
      await importEsm2(model, cache) // once, so the tasks find the converted model in the cache
      const text = gunzipSync(readFileSync(UNIPROT_20K)).toString('utf8')
      const cut = text
        .split('\n>', SEQUENCES + 1)
        .slice(0, SEQUENCES)
        .join('\n>')
      writeFileSync(input, `${cut}\n`)
      const r = await runCli([
        'cluster',
        'slurm',
        '--input',
        input,
        '--shards',
        String(SHARDS),
        '--model',
        model,
        '--sae',
        sae,
        '--shard-dir',
        join(dir, 'shards'),
        '--log-dir',
        join(dir, 'logs'),
        '--db',
        join(dir, 'project.sqlite'),
        '--plm-sae',
        `node ${join(ROOT, 'bin', 'plm-sae.js')}`,
        '--top-k',
        '5',
        '--batch-proteins',
        '8',
        '--threads',
        '1',
        '--cache-dir',
        cache,
        '--time',
        '00:20:00'
      ])
      expect(r.code).toBe(0)
      generated = r
      writeFileSync(script, r.out)
    })

    afterAll(() => {
      if (jobId) spawnSync('scancel', [jobId])
      tmp.cleanup()
    })

    it('writes an array job: one task per shard, SLURM_ARRAY_TASK_ID → --shard, requeueable, a log per shard', () => {
      const s = generated.out
      expect(s.startsWith('#!/bin/bash\n')).toBe(true)
      expect(s).toContain(`#SBATCH --array=1-${SHARDS}\n`)
      expect(s).toContain('#SBATCH --requeue\n')
      expect(s).toContain('#SBATCH --open-mode=append\n')
      expect(s).toContain(`#SBATCH --output=${join(dir, 'logs')}/shard-%a-of-${SHARDS}.log\n`)
      expect(s).toContain('#SBATCH --time=00:20:00\n')
      expect(s).toContain('SHARD="${SLURM_ARRAY_TASK_ID:?')
      expect(s).toContain(`--shard "$SHARD/${SHARDS}"`)
      expect(generated.err).toContain(
        `merge --db ${join(dir, 'project.sqlite')} ${join(dir, 'shards')}/shard-*-of-${SHARDS}.sqlite`
      )
      // bash accepts it
      expect(spawnSync('bash', ['-n', script]).status).toBe(0)
      // outside Slurm it refuses to run, saying why
      const r = spawnSync('bash', [script], { encoding: 'utf8', env: { ...process.env, SLURM_ARRAY_TASK_ID: '' } })
      expect(r.status).not.toBe(0)
      expect(r.stderr).toMatch(/submit this script with sbatch/)
    })

    it('runs every shard as an array task; a task killed mid-run resumes from its store when requeued', async () => {
      jobId = execFileSync('sbatch', ['--parsable', script], { cwd: dir, encoding: 'utf8' }).trim().split(';')[0]
      expect(jobId).toMatch(/^\d+$/)
      // kill shard 1 while it is writing latents (some committed, not finished), and requeue it
      const seen = await until('shard 1 to commit its first latents', 240, () => {
        const p = shardProgress(shardStore(1))
        return p && p.status === 'indexing' && p.latents > 0 ? p : undefined
      })
      execFileSync('scontrol', ['requeue', `${jobId}_1`])
      // Slurm holds a requeued job back for a while (Reason=BeginTime); let it start now
      await until('shard 1 to be requeued', 60, () => arrayTasks(jobId).find(t => t.task === '1')?.state === 'PENDING')
      execFileSync('scontrol', ['update', `JobId=${jobId}_1`, 'StartTime=now'])
      await until(`array job ${jobId} to finish`, 480, () => {
        const q = execFileSync('squeue', ['-h', '-j', jobId, '-o', '%i %T'], { encoding: 'utf8' }).trim()
        return q === '' ? true : undefined
      })
      const tasks = arrayTasks(jobId)
      expect(tasks.map(t => [t.task, t.state, t.exit]).sort()).toEqual(
        Array.from({ length: SHARDS }, (_, i) => [String(i + 1), 'COMPLETED', '0:0'])
      )
      expect(tasks.find(t => t.task === '1')!.restarts).toBe(1)
      // one log per shard; shard 1's shows two attempts, the second resuming after what the first stored
      expect(readdirSync(join(dir, 'logs')).sort()).toEqual(
        Array.from({ length: SHARDS }, (_, i) => `shard-${i + 1}-of-${SHARDS}.log`)
      )
      const log1 = readFileSync(join(dir, 'logs', `shard-1-of-${SHARDS}.log`), 'utf8')
      expect(log1).toMatch(/shard 1\/3 on .*attempt 1/)
      expect(log1).toMatch(/shard 1\/3 on .*attempt 2/)
      const done = [...log1.matchAll(/done: run 1; (\d+) proteins computed .*?, (\d+) already stored/g)]
      expect(done).toHaveLength(1) // the first attempt was killed before it finished
      expect(Number(done[0][2])).toBeGreaterThanOrEqual(seen.latents)
      expect(Number(done[0][1])).toBeGreaterThan(0)
      for (let i = 2; i <= SHARDS; i++)
        expect(readFileSync(join(dir, 'logs', `shard-${i}-of-${SHARDS}.log`), 'utf8')).toMatch(
          /done: run 1; \d+ proteins computed/
        )
    }, 600_000)

    it('merges the shard stores into the store of a single-machine run of the whole input', async () => {
      const merged = join(dir, 'project.sqlite')
      const shards = Array.from({ length: SHARDS }, (_, i) => shardStore(i + 1))
      const m = await runCli(['merge', '--db', merged, ...shards, '--json'])
      expect(m.err).not.toMatch(/error/)
      expect(m.code).toBe(0)
      const single = join(dir, 'single.sqlite')
      const s = await runCli([
        'index',
        '--model',
        model,
        '--sae',
        sae,
        '--input',
        input,
        '--db',
        single,
        '--top-k',
        '5',
        '--on-bad-record',
        'stop',
        '--device',
        'cpu',
        '--threads',
        '2',
        '--cache-dir',
        cache
      ])
      expect(s.code).toBe(0)
      const a = dumpStore(merged)
      const b = dumpStore(single)
      expect(a.proteins).toHaveLength(SEQUENCES)
      expect(a.proteins).toEqual(b.proteins)
      expect(a.runs).toEqual(b.runs)
      expect(a.latents).toEqual(b.latents)
      expect(a.runStats).toEqual(b.runStats)
      expect(a.featureStats).toEqual(b.featureStats)
      expect(a.featureDetails).toEqual(b.featureDetails)
      expect(a.featureConcepts).toEqual(b.featureConcepts)
    }, 300_000)
  }
)
