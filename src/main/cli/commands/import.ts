/** `plm-sae import`: converts a checkpoint into the model cache (done automatically by the other commands). */
import { Command } from 'commander'
import { importEsm2 } from '../../engine/esm/esm2-import'
import { modelCacheRoot } from '../../engine/fs/app-paths'
import { helpExample } from '../options'
import { Reporter } from '../reporter'

export function importCommand(): Command {
  const cmd = new Command('import')
    .description(
      'Import an ESM2 checkpoint into the model cache and print what it is (other commands import on first use; this does it ahead of time)'
    )
    .argument(
      '<checkpoint>',
      'a Hugging Face ESM2 folder (config.json + model.safetensors or pytorch_model.bin) or a fair-esm .pt file'
    )
    .option('--cache-dir <dir>', 'model cache folder (default: the app data folder, or $PLM_SAE_HOME/models)')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (checkpoint: string, opts: { cacheDir?: string; json?: boolean }) => {
      const log = new Reporter(Boolean(opts.json))
      const started = performance.now()
      const m = await importEsm2(checkpoint, opts.cacheDir ?? modelCacheRoot(), {
        onProgress: p => log.progress(p.phase, p.done, p.total)
      })
      log.done()
      const summary = {
        name: m.name,
        format: m.format,
        sha256: m.hash,
        layers: m.config.numLayers,
        hiddenSize: m.config.hiddenSize,
        heads: m.config.numHeads,
        hasLmHead: m.hasLmHead,
        cacheDir: m.dir,
        seconds: Number(((performance.now() - started) / 1000).toFixed(3))
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`)
      else {
        process.stdout.write(
          `${summary.name} (${summary.format}): ${summary.layers} layers, hidden ${summary.hiddenSize}, ${summary.heads} heads${summary.hasLmHead ? '' : ', no LM head'}\n` +
            `sha256 ${summary.sha256}\ncached in ${summary.cacheDir} (${summary.seconds} s)\n`
        )
      }
    })
  return helpExample(cmd, 'plm-sae import models/esm2_t6_8M_UR50D')
}
