/**
 * `npm run bench:index [-- --sequences 2000 --threads 2 --per-residue 64 --reps 200]`
 *
 * End-to-end indexing on the CPU: the first sequences of ../shared/data/sequences/uniprot-20k.fasta.gz,
 * an ESM2 8M-shaped random model (the real HF checkpoint format) and a 10,240-latent random SAE in the
 * preprint's format (layer 4) whose encoder biases are calibrated on real layer-4 hidden states so that about
 * 64 latents fire per residue. Prints residues/s end to end (model + SAE + SQLite writes + statistics),
 * bytes of store per residue and the projected size for Swiss-Prot (200 M residues), peak memory, and
 * p50/p95 of each UI query of the store.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { IndexJob } from '../src/main/engine/jobs/index-job'
import { pastedSequenceFeatures } from '../src/main/engine/jobs/pasted-sequence-features'
import { LatentStore } from '../src/main/engine/store/latent-store'
import { numberArg } from './bench-args'
import { BENCH_D_SAE, BENCH_LAYER, benchIndexFixtures, writeBenchInput } from './bench-fixtures'
import { mulberry32 } from '../src/main/engine/random'

const LAYER = BENCH_LAYER
const D_SAE = BENCH_D_SAE
const SWISSPROT_RESIDUES = 200e6

const N = numberArg('sequences', 2000)
const THREADS = numberArg('threads', 2)
const PER_RESIDUE = numberArg('per-residue', 64)
const REPS = numberArg('reps', 200)
const CALIBRATION_ROWS = numberArg('calibration-rows', 1024)

let peakRss = 0
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50)

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]
}

function time(
  label: string,
  reps: number,
  fn: (i: number) => unknown
): { label: string; p50: number; p95: number; max: number } {
  for (let i = 0; i < 5; i++) fn(i) // warm-up (statement preparation)
  const ms: number[] = []
  for (let i = 0; i < reps; i++) {
    const t = performance.now()
    fn(i + 5)
    ms.push(performance.now() - t)
  }
  ms.sort((a, b) => a - b)
  return { label, p50: percentile(ms, 0.5), p95: percentile(ms, 0.95), max: ms[ms.length - 1] }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'plm-sae-bench-index-'))
  try {
    // --- model and SAE fixtures, input: the first N sequences ------------------------------------------
    const { imported, model, sae, extractor } = await benchIndexFixtures(dir, {
      threads: THREADS,
      inputSequences: N,
      perResidue: PER_RESIDUE,
      calibrationRows: CALIBRATION_ROWS
    })
    const { input, residues } = await writeBenchInput(dir, N)
    console.log(
      `input: ${N} sequences, ${residues} residues; model ${imported.name} (8M shape, random), SAE ${D_SAE} latents at layer ${LAYER}, CPU ${THREADS} threads`
    )

    // --- index ---------------------------------------------------------------------------------------------
    const dbPath = join(dir, 'bench.sqlite')
    const store = LatentStore.open(dbPath)
    let statsStart = 0
    const started = performance.now()
    let lastLog = 0
    const res = await new IndexJob({
      store,
      input,
      source: extractor,
      model: { name: imported.name, hash: imported.hash },
      sae: { name: sae.name, hash: sae.hash },
      topK: 20,
      onBadRecord: 'skip',
      onProgress: p => {
        if (p.phase === 'statistics' && statsStart === 0) statsStart = performance.now()
        const t = performance.now()
        if (t - lastLog > 10_000) {
          lastLog = t
          process.stderr.write(
            `  ${p.phase}: ${p.proteinsDone}/${p.proteinsTotal} proteins, ${Math.round(p.residuesPerSecond)} residues/s, ETA ${p.etaSeconds === null ? '?' : Math.round(p.etaSeconds)} s\n`
          )
        }
      }
    }).run()
    const seconds = (performance.now() - started) / 1000
    const statsSeconds = statsStart ? (performance.now() - statsStart) / 1000 : 0
    const size = store.latentBytes(res.runId)
    const nnz = (store.db.prepare('SELECT SUM(nnz) FROM latents').pluck().get() as number) ?? 0
    store.db.pragma('wal_checkpoint(TRUNCATE)')
    const fileBytes = statSync(dbPath).size
    console.log(
      `indexed ${res.proteinsIndexed} proteins, ${res.residuesIndexed} residues in ${seconds.toFixed(1)} s (statistics ${statsSeconds.toFixed(1)} s)`
    )
    console.log(
      `end to end: ${Math.round(res.residuesIndexed / seconds)} residues/s (model + SAE + store + statistics)`
    )
    console.log(
      `latents: ${(nnz / size.residues).toFixed(1)} nonzero per residue; blob ${(size.bytes / size.residues).toFixed(1)} bytes/residue (${(size.bytes / nnz).toFixed(2)} bytes/entry)`
    )
    // what grows with the residues (latents, proteins and their indexes) and what is per feature (fixed)
    const tables = store.db.prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name').all() as {
      name: string
      bytes: number
    }[]
    const scaling = tables.filter(t => /latents|proteins/.test(t.name)).reduce((a, t) => a + t.bytes, 0)
    const fixed = fileBytes - scaling
    console.log(
      `store file: ${(fileBytes / 1e6).toFixed(1)} MB; per residue ${(scaling / size.residues).toFixed(1)} bytes (latents + proteins), ` +
        `per-feature tables ${(fixed / 1e6).toFixed(1)} MB (fixed: statistics, examples, concepts)`
    )
    console.log(
      `projected for Swiss-Prot (200 M residues): ${(((scaling / size.residues) * SWISSPROT_RESIDUES + fixed) / 1e9).toFixed(1)} GB`
    )

    // --- concept phase -------------------------------------------------------------------------------------
    // The input is FASTA (no annotations): give every protein Swiss-Prot-like annotations (helices, strands,
    // domains and metal sites with notes), then time the statistics without and with concept association
    // (residue F1 and InterPLM's per-domain F1 are always computed together).
    const conceptRand = mulberry32(11)
    const annotate = store.db.prepare('UPDATE proteins SET annotations = ? WHERE id = ?')
    const plain = store.db.prepare('SELECT id, length FROM proteins').all() as { id: number; length: number }[]
    const withAnnotations = (on: boolean): void =>
      store.db.transaction(() => {
        for (const p of plain) {
          const a: object[] = []
          if (on) {
            const seg = (type: string, len: number, description = ''): void => {
              const start = 1 + Math.floor(conceptRand() * Math.max(1, p.length - len))
              a.push({ type, start, end: Math.min(p.length, start + len - 1), description })
            }
            for (let k = 0; k < Math.max(1, Math.floor(p.length / 40)); k++)
              seg('helix', 8 + Math.floor(conceptRand() * 12))
            for (let k = 0; k < Math.max(1, Math.floor(p.length / 60)); k++)
              seg('strand', 4 + Math.floor(conceptRand() * 5))
            if (conceptRand() < 0.5)
              seg('domain', 60, ['Protein kinase', 'SH3', 'PDZ', 'Ig-like'][Math.floor(conceptRand() * 4)])
            if (conceptRand() < 0.3)
              for (let k = 0; k < 4; k++) seg('metal', 1, ['Zn(2+)', 'Mg(2+)', 'Ca(2+)'][Math.floor(conceptRand() * 3)])
          }
          annotate.run(JSON.stringify(a), p.id)
        }
      })()
    const timeStats = async (concepts?: {
      falsePositives: 'annotated' | 'all'
      splitTypes: ('metal' | 'domain')[]
      minInstances: number
    }): Promise<number> => {
      const t0 = performance.now()
      await store.computeStatistics(res.runId, { topK: 20, ...(concepts ? { concepts } : {}) })
      return (performance.now() - t0) / 1000
    }
    const noConcepts = await timeStats()
    withAnnotations(true)
    const annotatedScope = await timeStats({ falsePositives: 'annotated', splitTypes: [], minInstances: 1 })
    const allScope = await timeStats({ falsePositives: 'all', splitTypes: ['metal', 'domain'], minInstances: 10 })
    const conceptCount = store.db
      .prepare('SELECT COUNT(*) FROM feature_concepts WHERE run_id = ?')
      .pluck()
      .get(res.runId) as number
    console.log(
      `concept phase (residue F1 + InterPLM per-domain F1, ${plain.length} annotated proteins): statistics ${noConcepts.toFixed(1)} s without concepts, ` +
        `${annotatedScope.toFixed(1)} s with them (false positives on annotated proteins), ${allScope.toFixed(1)} s on all proteins with metal and domain split by note; ` +
        `concept phase ${(annotatedScope - noConcepts).toFixed(1)} / ${(allScope - noConcepts).toFixed(1)} s = ${((100 * Math.max(0, allScope - noConcepts)) / seconds).toFixed(1)} % of indexing; ${conceptCount} feature-concept rows`
    )
    withAnnotations(false)
    await timeStats()

    // --- UI queries ----------------------------------------------------------------------------------------
    const r = mulberry32(5)
    const proteins = store.proteins
      .list({ limit: 1000 })
      .items.concat(store.proteins.list({ offset: 1000, limit: 1000 }).items)
    for (let i = 0; i < 500; i++)
      store.setFeatureLabel({
        feature: Math.floor(r() * D_SAE),
        label: `label ${i} ${['helix', 'kinase', 'zinc', 'signal'][i % 4]}`
      })
    const results = [
      time('feature list: first page (id)', REPS, () => store.features.list({ limit: 100 })),
      time('feature list: sorted by max desc, random page', REPS, () =>
        store.features.list({ sort: { key: 'max', dir: 'desc' }, offset: Math.floor(r() * 100) * 100, limit: 100 })
      ),
      time('feature list: filtered (alive, freq ≥ 0.005) by freq', REPS, () =>
        store.features.list({
          status: 'alive',
          minFreqResidue: 0.005,
          sort: { key: 'freqResidue', dir: 'desc' },
          limit: 100
        })
      ),
      time('feature list: text search "kinase"', REPS, () =>
        store.features.list({ text: 'kinase', sort: { key: 'label', dir: 'asc' }, limit: 100 })
      ),
      time('feature overview (all 10,240 points)', REPS, () => store.features.overview()),
      time('one feature (stats, histogram, top 20 + 30 samples with tracks)', REPS, () =>
        store.features.detail(Math.floor(r() * D_SAE))
      ),
      time('one protein: all firing features by max (top 100, 20 tracks)', REPS, () =>
        store.proteins.features({
          protein: proteins[Math.floor(r() * proteins.length)].id,
          sortBy: 'max',
          limit: 100,
          withTracks: 20
        })
      ),
      time('one protein: residue range by mean (top 100)', REPS, () => {
        const p = proteins[Math.floor(r() * proteins.length)]
        const a = 1 + Math.floor(r() * p.length)
        return store.proteins.features({
          protein: p.id,
          range: { start: a, end: Math.min(p.length, a + 50) },
          sortBy: 'mean',
          limit: 100
        })
      }),
      time('label edit', REPS, i => store.setFeatureLabel({ feature: i % D_SAE, notes: `note ${i}` })),
      time('export feature table (CSV, 10,240 rows)', Math.min(REPS, 20), () =>
        store.features.export({ format: 'csv' })
      )
    ]
    const live: number[] = []
    for (let i = 0; i < 20; i++) {
      const p = store.proteins.get(proteins[Math.floor(r() * proteins.length)].id)!
      const t = performance.now()
      await pastedSequenceFeatures(store, extractor, { sequence: p.sequence.slice(0, 400), limit: 100, withTracks: 20 })
      live.push(performance.now() - t)
    }
    live.sort((a, b) => a - b)
    console.log('\nquery latency (ms)                                               p50      p95      max')
    for (const q of results)
      console.log(
        `${q.label.padEnd(64)} ${q.p50.toFixed(2).padStart(7)}  ${q.p95.toFixed(2).padStart(7)}  ${q.max.toFixed(2).padStart(7)}`
      )
    console.log(
      `${'features of a typed sequence (≤ 400 aa, runs the model live)'.padEnd(64)} ${percentile(live, 0.5).toFixed(2).padStart(7)}  ${percentile(live, 0.95).toFixed(2).padStart(7)}`
    )
    clearInterval(sampler)
    console.log(
      `\npeak memory: RSS ${(peakRss / 1e6).toFixed(0)} MB sampled, ${(process.resourceUsage().maxRSS / 1e3).toFixed(0)} MB max RSS (rusage)`
    )
    store.close()
    await extractor.close()
    await model.close()
  } finally {
    clearInterval(sampler)
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
