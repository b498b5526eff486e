/**
 * `plm-sae cluster slurm --input F --shards N ... > index.sbatch`: writes the Slurm array job of a sharded index
 * (engine/jobs/slurm-array.ts) on stdout, creates its log and shard folders, and prints on stderr how to submit,
 * watch and merge.
 */
import { Command, Option } from 'commander'
import { existsSync, mkdirSync } from 'node:fs'
import { slurmArrayScript, type SlurmArrayOptions } from '../../engine/jobs/slurm-array'
import { nonNegativeInt, positiveInt, helpExample } from '../options'
import { BAD_RECORD_POLICIES } from '../../../shared/store-types'

/** The script's options (engine/jobs/slurm-array.ts) as the command line gives them, and the index options it passes on. */
interface SlurmCommandOptions extends Omit<SlurmArrayOptions, 'plmSae' | 'jobName' | 'indexArgs'> {
  plmSae: string
  jobName: string
  topK: number
  onBadRecord: string
  batchProteins?: number
  window?: number
  batchTokens?: number
  device: string
  threads?: number
  cacheDir?: string
}

function slurmCommand(): Command {
  return new Command('slurm')
    .description(
      'Write a Slurm array job (one task per shard, resumable on requeue, a log per shard) that indexes the input in shards; prints the merge command'
    )
    .requiredOption(
      '--input <file>',
      'proteins: FASTA or UniProt flat file (.dat), plain or gzipped, on a filesystem every node sees'
    )
    .requiredOption('--shards <n>', 'number of shards (array tasks)', positiveInt('--shards'))
    .requiredOption('--model <dir>', 'the ESM2 checkpoint (as for plm-sae index)')
    .requiredOption('--sae <dir>', 'the SAE (as for plm-sae index)')
    .option('--sae-layer <n>', 'the layer the SAE reads, when its files do not say', nonNegativeInt('--sae-layer'))
    .option('--shard-dir <dir>', 'folder of the shard stores', 'shards')
    .option('--log-dir <dir>', 'folder of the per-shard logs', 'logs')
    .option('--db <file.sqlite>', 'the merged project store (for the printed merge command)', 'project.sqlite')
    .option(
      '--plm-sae <command>',
      'how the cluster nodes run plm-sae (e.g. "node /opt/plm-sae/bin/plm-sae.js")',
      'plm-sae'
    )
    .option('--job-name <name>', 'Slurm job name', 'plm-sae-index')
    .option('--partition <p>', 'Slurm partition')
    .option('--account <a>', 'Slurm account')
    .option('--gpus-per-task <g>', 'GPUs per shard task', nonNegativeInt('--gpus-per-task'))
    .option('--cpus-per-task <c>', 'CPUs per shard task', positiveInt('--cpus-per-task'))
    .option('--mem <m>', 'memory per shard task (Slurm syntax, e.g. 16G)')
    .option('--time <t>', 'time limit per shard task (e.g. 04:00:00); a task that hits it resumes when requeued')
    .option('--max-parallel <k>', 'run at most k shards at once', positiveInt('--max-parallel'))
    .option('--top-k <n>', 'proteins kept per feature by max activation', positiveInt('--top-k'), 20)
    .addOption(
      new Option('--on-bad-record <policy>', 'what to do with a bad record')
        .choices([...BAD_RECORD_POLICIES])
        .default('stop')
    )
    .option('--batch-proteins <n>', 'proteins per committed batch', positiveInt('--batch-proteins'))
    .option('--window <n>', 'longest sequence run in one piece', positiveInt('--window'))
    .option('--batch-tokens <n>', 'upper bound on batch size × padded length', positiveInt('--batch-tokens'))
    .addOption(
      new Option(
        '--device <device>',
        'where each task runs the model (default: cuda with --gpus-per-task, else cpu)'
      ).choices(['auto', 'cuda', 'cpu'])
    )
    .option('--threads <n>', 'CPU threads per task (0 = one per core)', nonNegativeInt('--threads'))
    .option('--cache-dir <dir>', 'model cache folder on the nodes')
    .action((opts: SlurmCommandOptions) => {
      if (!existsSync(opts.input)) throw new Error(`--input ${opts.input}: no such file (give a path every node sees)`)
      const indexArgs = ['--top-k', String(opts.topK), '--on-bad-record', opts.onBadRecord]
      indexArgs.push('--device', opts.device ?? (opts.gpusPerTask ? 'cuda' : 'cpu'))
      if (opts.batchProteins) indexArgs.push('--batch-proteins', String(opts.batchProteins))
      if (opts.window) indexArgs.push('--window', String(opts.window))
      if (opts.batchTokens) indexArgs.push('--batch-tokens', String(opts.batchTokens))
      if (opts.threads !== undefined) indexArgs.push('--threads', String(opts.threads))
      if (opts.cacheDir) indexArgs.push('--cache-dir', opts.cacheDir)
      const { script, mergeCommand } = slurmArrayScript({ ...opts, indexArgs })
      mkdirSync(opts.logDir, { recursive: true })
      mkdirSync(opts.shardDir, { recursive: true })
      process.stdout.write(script)
      process.stderr.write(
        `Slurm array job of ${opts.shards} shards written (logs: ${opts.logDir}/, shard stores: ${opts.shardDir}/).\n` +
          '  submit:  sbatch index.sbatch\n' +
          '  watch:   squeue -u "$USER"   (or tail -f the shard logs)\n' +
          '  rerun a failed shard (it resumes): scontrol requeue JOBID_I\n' +
          `  when every task is done, merge:\n    ${mergeCommand}\n`
      )
    })
}

export function clusterCommand(): Command {
  return helpExample(
    new Command('cluster')
      .description('Run an index on a cluster scheduler: write the job script of a sharded index')
      .addCommand(slurmCommand()),
    'plm-sae cluster slurm --input uniref50.fasta.gz --shards 64 --model esm2_t33_650M --sae sae_l24 --partition gpu --gpus-per-task 1 > index.sbatch'
  )
}
