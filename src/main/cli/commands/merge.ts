/**
 * `plm-sae merge --db project.sqlite shard-*.sqlite`: combines the stores of `plm-sae index --shard I/N` into
 * one project store with the whole input's statistics (engine/store/store-merge.ts). Resumable (run it again
 * after an interruption) and idempotent (merging the same shards again adds nothing). Ctrl-C stops cleanly.
 */
import { Command } from 'commander'
import { helpExample } from '../options'
import { mergeStores, type MergeResult } from '../../engine/store/store-merge'
import { LatentStore } from '../../engine/store/latent-store'
import { Reporter } from '../reporter'

export interface MergeCommandOptions {
  db: string
  json?: boolean
  quiet?: boolean
}

export function mergeCommand(): Command {
  const cmd = new Command('merge')
    .description(
      'Merge the shard stores of plm-sae index --shard I/N into one project store, with the statistics of the whole input'
    )
    .argument('<shards...>', 'the shard stores (all N of them), e.g. shard-*.sqlite')
    .requiredOption('--db <file.sqlite>', 'the merged project store (created when missing; run again to resume)')
    .option('--json', 'print the result as JSON on stdout')
    .option('-q, --quiet', 'print nothing but errors')
    .action(async (shards: string[], opts: MergeCommandOptions) => {
      await runMerge(shards, opts)
    })
  return helpExample(cmd, 'plm-sae merge --db project.sqlite shards/shard-*-of-4.sqlite')
}

export async function runMerge(shards: string[], opts: MergeCommandOptions): Promise<MergeResult> {
  const log = new Reporter(opts.quiet ?? false)
  const abort = new AbortController()
  const onSigint = (): void => {
    log.line('stopping (what is merged is kept; run the same command again to resume) ...')
    abort.abort()
  }
  process.on('SIGINT', onSigint)
  const store = LatentStore.open(opts.db)
  let latentsStart: number | undefined
  try {
    log.line(`merging ${shards.length} shard store${shards.length === 1 ? '' : 's'} into ${opts.db}`)
    const r = await mergeStores({
      target: store,
      shards,
      signal: abort.signal,
      onProgress: p => {
        if (p.phase === 'checking') log.progress(`checking ${p.shard ?? ''}`, p.proteinsDone, p.proteinsTotal)
        else if (p.phase === 'proteins') log.progress('proteins', p.proteinsDone, p.proteinsTotal)
        else if (p.phase === 'latents') {
          latentsStart ??= performance.now()
          const seconds = (performance.now() - latentsStart) / 1000
          const rate = seconds > 0 ? p.bytesRead / 1e6 / seconds : 0
          const eta =
            p.latentsDone > 0 && seconds > 0 ? ((p.latentsTotal - p.latentsDone) * seconds) / p.latentsDone : undefined
          log.progress(
            `latents (${p.shard}), ${rate.toFixed(1)} MB/s, ETA ${eta === undefined ? '?' : `${Math.round(eta)} s`}; proteins`,
            p.latentsDone,
            p.latentsTotal
          )
        } else if (p.phase === 'statistics')
          log.progress('feature statistics (%)', Math.round((p.statsFraction ?? 0) * 100), 100)
      }
    })
    log.done()
    const mb = r.bytesRead / 1e6
    log.line(
      `done: ${r.shards} shards; ${r.proteinsAdded} proteins added (${r.proteinsExisting} already there), ${r.latentsAdded} latent rows added ` +
        `(${r.latentsExisting} already there), ${mb.toFixed(1)} MB of latents read in ${r.seconds.toFixed(1)} s`
    )
    for (const run of r.runs) {
      log.line(
        `run ${run.runId}: ${run.modelName} + ${run.saeName} (layer ${run.layer}), ${run.proteins} proteins; ` +
          (run.statisticsComputed ? 'statistics computed over the whole input' : 'statistics already up to date')
      )
    }
    if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`)
    return r
  } catch (e) {
    if (abort.signal.aborted) {
      log.line('stopped; run the same command again to resume')
      process.exitCode = 130
    }
    throw e
  } finally {
    process.off('SIGINT', onSigint)
    store.close()
  }
}
