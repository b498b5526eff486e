/**
 * The Slurm array job of a sharded index: one array task per shard (`SLURM_ARRAY_TASK_ID` → `--shard I/N`), each
 * writing its own shard store with `plm-sae index` (resumable: a requeued or re-submitted task continues where
 * its store stopped), logs per shard (appended across attempts), and the `plm-sae merge` command that combines
 * the shard stores afterwards. Plain text generation: nothing here talks to Slurm.
 */
import { resolve } from 'node:path'

export interface SlurmArrayOptions {
  input: string
  shards: number
  model: string
  sae: string
  saeLayer?: number
  /** Folder of the shard stores (shard-I-of-N.sqlite). */
  shardDir: string
  /** Folder of the per-shard logs (shard-I-of-N.log). */
  logDir: string
  /** The merged store named in the merge command. */
  db: string
  /** How the cluster runs the command line, as shell words (default `plm-sae`; e.g. `node /opt/plm-sae/bin/plm-sae.js`). */
  plmSae?: string
  jobName?: string
  partition?: string
  account?: string
  gpusPerTask?: number
  cpusPerTask?: number
  mem?: string
  time?: string
  /** Run at most this many shards at once (array throttle `%K`). */
  maxParallel?: number
  /** Extra `plm-sae index` arguments (already split), e.g. ['--top-k', '20', '--device', 'cuda']. */
  indexArgs?: string[]
}

/** Single-quotes a word for bash. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}

export function shardStoreName(index: number | string, count: number): string {
  return `shard-${index}-of-${count}.sqlite`
}

export function slurmArrayScript(o: SlurmArrayOptions): { script: string; mergeCommand: string; shardGlob: string } {
  if (!Number.isInteger(o.shards) || o.shards < 1)
    throw new Error(`--shards must be a positive integer, not ${o.shards}`)
  if (o.gpusPerTask !== undefined && (!Number.isInteger(o.gpusPerTask) || o.gpusPerTask < 0))
    throw new Error('--gpus-per-task must be a whole number')
  if (o.time !== undefined && !/^[0-9:-]+$/.test(o.time))
    throw new Error(`--time "${o.time}": use a Slurm time such as 04:00:00 or 1-00:00:00`)
  const N = o.shards
  const plmSae = o.plmSae ?? 'plm-sae'
  const input = resolve(o.input)
  const shardDir = resolve(o.shardDir)
  const logDir = resolve(o.logDir)
  const db = resolve(o.db)
  const q = shellQuote
  const sbatch: string[] = [
    `--job-name=${q(o.jobName ?? 'plm-sae-index')}`,
    `--array=1-${N}${o.maxParallel ? `%${o.maxParallel}` : ''}`,
    '--ntasks=1',
    `--output=${q(`${logDir}/shard-%a-of-${N}.log`)}`,
    '--open-mode=append',
    '--requeue'
  ]
  if (o.partition) sbatch.push(`--partition=${q(o.partition)}`)
  if (o.account) sbatch.push(`--account=${q(o.account)}`)
  if (o.gpusPerTask) sbatch.push(`--gpus-per-task=${o.gpusPerTask}`)
  if (o.cpusPerTask) sbatch.push(`--cpus-per-task=${o.cpusPerTask}`)
  if (o.mem) sbatch.push(`--mem=${q(o.mem)}`)
  if (o.time) sbatch.push(`--time=${o.time}`)
  const args = [
    'index',
    '--model',
    q(resolve(o.model)),
    '--sae',
    q(resolve(o.sae)),
    ...(o.saeLayer !== undefined ? ['--sae-layer', String(o.saeLayer)] : []),
    '--input',
    q(input),
    '--db',
    `"$STORE"`,
    '--shard',
    `"$SHARD/${N}"`,
    ...(o.indexArgs ?? []).map(q)
  ]
  const shardGlob = `${shardDir}/shard-*-of-${N}.sqlite`
  const mergeCommand = `${plmSae} merge --db ${q(db)} ${q(shardDir)}/shard-*-of-${N}.sqlite`
  const script = `#!/bin/bash
# PLM-SAE Workbench: index ${input} in ${N} shards, one Slurm array task per shard.
#   submit:  sbatch THIS_FILE
#   watch:   squeue -u "$USER"        logs: ${logDir}/shard-I-of-${N}.log
#   rerun a failed or killed shard (it resumes where its store stopped): scontrol requeue JOBID_I
#   then merge the shard stores into one project store:
#     ${mergeCommand}
${sbatch.map(s => `#SBATCH ${s}`).join('\n')}
set -euo pipefail
SHARD="\${SLURM_ARRAY_TASK_ID:?submit this script with sbatch: it is a Slurm array job (one task per shard)}"
STORE=${q(shardDir)}/shard-"$SHARD"-of-${N}.sqlite
mkdir -p ${q(shardDir)}
echo "[$(date -u +%Y-%m-%dT%H:%M:%SZ)] shard $SHARD/${N} on $(hostname), job \${SLURM_JOB_ID:-?}, attempt $(( \${SLURM_RESTART_COUNT:-0} + 1 )) -> $STORE"
# The index resumes: a requeued or re-submitted task skips every protein its store already holds.
${plmSae} ${args.join(' ')}
echo "[$(date -u +%Y-%m-%dT%H:%M:%SZ)] shard $SHARD/${N} done"
`
  return { script, mergeCommand, shardGlob }
}
