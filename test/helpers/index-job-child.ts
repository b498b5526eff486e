/**
 * Runs an IndexJob in a child process so a test can kill -9 it mid-way. The real LatentExtractor is slowed
 * down (a sleep after each protein) only so that the kill lands in the middle of the job.
 * argv: modelDir cacheDir saeDir input db sleepMs
 */
import { importEsm2 } from '../../src/main/engine/esm/esm2-import'
import { Esm2Model } from '../../src/main/engine/esm/esm2-model'
import { IndexJob } from '../../src/main/engine/jobs/index-job'
import { LatentExtractor } from '../../src/main/engine/sae/latent-extractor'
import type { LatentSource } from '../../src/main/engine/sae/latent-source'
import { loadSae } from '../../src/main/engine/sae/sae-load'
import { LatentStore } from '../../src/main/engine/store/latent-store'

async function main(): Promise<void> {
  const [modelDir, cacheDir, saeDir, input, db, sleepMs] = process.argv.slice(2)
  const imported = await importEsm2(modelDir, cacheDir)
  const model = await Esm2Model.open(imported, { device: 'cpu', deviceId: 0, threads: 1 })
  const sae = await loadSae(saeDir)
  const extractor = await LatentExtractor.open(model, sae)
  const slow: LatentSource = {
    dSae: extractor.dSae,
    layer: extractor.layer,
    close: () => extractor.close(),
    async *extract(inputs, opts) {
      for await (const l of extractor.extract(inputs, opts)) {
        await new Promise(r => setTimeout(r, Number(sleepMs)))
        yield l
      }
    }
  }
  const store = LatentStore.open(db)
  const job = new IndexJob({
    store,
    input,
    source: slow,
    model: { name: imported.name, hash: imported.hash },
    sae: { name: sae.name, hash: sae.hash },
    topK: 5,
    batchProteins: 3,
    onBadRecord: 'skip',
    onProgress: p => process.stdout.write(`${JSON.stringify({ phase: p.phase, done: p.proteinsDone })}\n`)
  })
  await job.run()
  store.close()
  await extractor.close()
  await model.close()
  process.stdout.write('{"finished":true}\n')
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack}\n`)
  process.exit(1)
})
