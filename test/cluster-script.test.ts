/**
 * `plm-sae cluster slurm` without a scheduler: the array job it writes (one task per shard, SLURM_ARRAY_TASK_ID →
 * --shard, requeue, per-shard logs, the Slurm options given), valid bash that refuses to run outside sbatch, the
 * merge command it prints, and its errors; `plm-sae merge` errors through the command line. The script is run
 * on a real scheduler in cluster-slurm.test.ts.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from './helpers/cli'
import { tempDir } from './helpers/tmp'

const tmp = tempDir('cluster-script')
afterAll(() => tmp.cleanup())

describe('plm-sae cluster slurm', () => {
  it('writes the array job and prints how to submit, watch and merge', async () => {
    const input = join(tmp.dir, "my input's.fasta")
    writeFileSync(input, '>a\nMKV\n')
    const r = await runCli([
      'cluster',
      'slurm',
      '--input',
      input,
      '--shards',
      '16',
      '--model',
      '/m/esm2',
      '--sae',
      '/m/sae',
      '--sae-layer',
      '24',
      '--partition',
      'gpu',
      '--gpus-per-task',
      '1',
      '--time',
      '08:00:00',
      '--cpus-per-task',
      '8',
      '--mem',
      '32G',
      '--account',
      'lab',
      '--max-parallel',
      '4',
      '--shard-dir',
      join(tmp.dir, 'shards'),
      '--log-dir',
      join(tmp.dir, 'logs'),
      '--db',
      join(tmp.dir, 'p.sqlite'),
      '--top-k',
      '30',
      '--on-bad-record',
      'skip'
    ])
    expect(r.code).toBe(0)
    const s = r.out
    for (const line of [
      '#SBATCH --array=1-16%4',
      '#SBATCH --ntasks=1',
      '#SBATCH --requeue',
      '#SBATCH --open-mode=append',
      `#SBATCH --output=${join(tmp.dir, 'logs')}/shard-%a-of-16.log`,
      '#SBATCH --partition=gpu',
      '#SBATCH --account=lab',
      '#SBATCH --gpus-per-task=1',
      '#SBATCH --cpus-per-task=8',
      '#SBATCH --mem=32G',
      '#SBATCH --time=08:00:00'
    ]) {
      expect(s).toContain(`${line}\n`)
    }
    expect(s).toContain(
      `plm-sae index --model /m/esm2 --sae /m/sae --sae-layer 24 --input '${input.replace(/'/g, `'\\''`)}' --db "$STORE" --shard "$SHARD/16"`
    )
    expect(s).toContain('--top-k 30 --on-bad-record skip --device cuda')
    expect(r.err).toContain(
      `plm-sae merge --db ${join(tmp.dir, 'p.sqlite')} ${join(tmp.dir, 'shards')}/shard-*-of-16.sqlite`
    )
    expect(existsSync(join(tmp.dir, 'logs'))).toBe(true)
    const script = join(tmp.dir, 'index.sbatch')
    writeFileSync(script, s)
    expect(spawnSync('bash', ['-n', script]).status).toBe(0)
    const run = spawnSync('bash', [script], { encoding: 'utf8', env: { PATH: process.env.PATH } })
    expect(run.status).not.toBe(0)
    expect(run.stderr).toMatch(/submit this script with sbatch: it is a Slurm array job/)
  })

  it('refuses bad options with a clear message', async () => {
    const base = ['cluster', 'slurm', '--model', 'm', '--sae', 's']
    const missing = await runCli([...base, '--input', join(tmp.dir, 'nope.fasta'), '--shards', '2'])
    expect(missing.code).toBe(1)
    expect(missing.err).toMatch(/nope\.fasta: no such file \(give a path every node sees\)/)
    const zero = await runCli([...base, '--input', 'x', '--shards', '0'])
    expect(zero.code).not.toBe(0)
    expect(zero.err).toMatch(/--shards must be a positive integer/)
  })
})

describe('plm-sae index --shard / merge on the command line', () => {
  it('rejects a malformed --shard', async () => {
    const r = await runCli(['index', '--model', 'm', '--sae', 's', '--input', 'x', '--db', 'y', '--shard', '5/4'])
    expect(r.code).not.toBe(0)
    expect(r.err).toMatch(/--shard "5\/4": I must be between 1 and N/)
  })

  it('merge names the file that is not a shard store', async () => {
    const junk = join(tmp.dir, 'junk.sqlite')
    writeFileSync(junk, '')
    const r = await runCli(['merge', '--db', join(tmp.dir, 'merged.sqlite'), junk])
    expect(r.code).toBe(1)
    expect(r.err).toMatch(/junk\.sqlite: not a PLM-SAE store \(no table "schema_version"\)/)
    const none = await runCli(['merge', '--db', join(tmp.dir, 'merged.sqlite'), join(tmp.dir, 'missing.sqlite')])
    expect(none.err).toMatch(/missing\.sqlite: no such shard store/)
  })
})
