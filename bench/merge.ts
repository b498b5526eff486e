/**
 * `npm run bench:merge [-- --sequences 4000 --shards 4 --threads 2 --per-residue 64]`
 *
 * Merge throughput: the first N sequences of the benchmark set are indexed in S shards (`IndexJob` with
 * `shard`, the bench:index model and 10,240-latent SAE, one store per shard; their total time is the indexing
 * time of the whole input), then `mergeStores` combines them into one store. Prints residues/s and MB/s of
 * the merge (latent bytes read), the time of each phase (checks + copy, statistics over the whole input), and
 * the merge time as a fraction of the indexing time (target: under a tenth).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { IndexJob } from '../src/main/engine/jobs/index-job'
import { LatentStore } from '../src/main/engine/store/latent-store'
import { mergeStores, type MergeProgress } from '../src/main/engine/store/store-merge'
import { numberArg } from './bench-args'
import { BENCH_D_SAE, BENCH_LAYER, benchIndexFixtures, writeBenchInput } from './bench-fixtures'

const N = numberArg('sequences', 4000)
const SHARDS = numberArg('shards', 4)
const THREADS = numberArg('threads', 2)
const PER_RESIDUE = numberArg('per-residue', 64)

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'plm-sae-bench-merge-'))
  try {
    const { imported, model, sae, extractor } = await benchIndexFixtures(dir, {
      threads: THREADS,
      inputSequences: N,
      perResidue: PER_RESIDUE,
      calibrationRows: 1024
    })
    const { input, residues } = await writeBenchInput(dir, N)
    console.log(
      `load average at start: ${loadavg()[0].toFixed(1)} on ${cpus().length} cores (figures are slower under other load)`
    )
    console.log(
      `input: ${N} sequences, ${residues} residues in ${SHARDS} shards; model ${imported.name} (8M shape, random), SAE ${BENCH_D_SAE} latents at layer ${BENCH_LAYER}, CPU ${THREADS} threads`
    )

    // --- index the shards ----------------------------------------------------------------------------------
    const shards: string[] = []
    let indexSeconds = 0
    for (let i = 1; i <= SHARDS; i++) {
      const path = join(dir, `shard-${i}-of-${SHARDS}.sqlite`)
      const store = LatentStore.open(path)
      const t = performance.now()
      const r = await new IndexJob({
        store,
        input,
        source: extractor,
        model: { name: imported.name, hash: imported.hash },
        sae: { name: sae.name, hash: sae.hash },
        topK: 20,
        onBadRecord: 'skip',
        shard: { index: i, count: SHARDS }
      }).run()
      const s = (performance.now() - t) / 1000
      indexSeconds += s
      store.db.pragma('wal_checkpoint(TRUNCATE)')
      store.close()
      shards.push(path)
      console.log(
        `  shard ${i}/${SHARDS}: ${r.proteinsIndexed} proteins, ${r.residuesIndexed} residues indexed in ${s.toFixed(1)} s; ${(statSync(path).size / 1e6).toFixed(1)} MB`
      )
    }
    await extractor.close()
    await model.close()
    console.log(
      `indexing (all shards): ${indexSeconds.toFixed(1)} s, ${Math.round(residues / indexSeconds)} residues/s`
    )

    // --- merge -----------------------------------------------------------------------------------------------
    console.log(`load average before the merge: ${loadavg()[0].toFixed(1)}`)
    const target = LatentStore.open(join(dir, 'merged.sqlite'))
    const phases = new Map<MergeProgress['phase'], number>()
    const started = performance.now()
    const r = await mergeStores({
      target,
      shards,
      onProgress: p => {
        if (!phases.has(p.phase)) phases.set(p.phase, performance.now())
      }
    })
    const seconds = (performance.now() - started) / 1000
    const at = (p: MergeProgress['phase']): number => ((phases.get(p) ?? performance.now()) - started) / 1000
    const copySeconds = at('statistics')
    const statsSeconds = seconds - copySeconds
    target.close()
    console.log(
      `merge: ${r.proteinsAdded} proteins, ${r.latentsAdded} latent rows, ${r.residuesAdded} residues, ${(r.bytesRead / 1e6).toFixed(1)} MB of latents in ${seconds.toFixed(2)} s ` +
        `(checks ${at('proteins').toFixed(2)} s, proteins ${(at('latents') - at('proteins')).toFixed(2)} s, latents ${(at('statistics') - at('latents')).toFixed(2)} s, statistics ${statsSeconds.toFixed(2)} s)`
    )
    console.log(
      `merge throughput: ${Math.round(r.residuesAdded / seconds)} residues/s, ${(r.bytesRead / 1e6 / seconds).toFixed(1)} MB/s end to end; copy alone ${Math.round(r.residuesAdded / copySeconds)} residues/s, ${(r.bytesRead / 1e6 / copySeconds).toFixed(1)} MB/s`
    )
    console.log(`merge / indexing time: ${(seconds / indexSeconds).toFixed(3)} (target < 0.1)`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
