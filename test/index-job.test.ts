/**
 * IndexJob end to end with the real parts: a random-weight tiny ESM2 checkpoint, a preprint-format SAE, the
 * LatentExtractor, a real SQLite store. Resume after kill -9 (a child process), no double counting, a second
 * run doing no work, re-indexing with another SAE keeping the proteins, bad records, cancel, statistics
 * against a brute-force computation, and live features.
 */
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tokenize } from '../src/main/engine/esm/alphabet'
import { importEsm2, type ImportedEsm2 } from '../src/main/engine/esm/esm2-import'
import { Esm2Model } from '../src/main/engine/esm/esm2-model'
import { IndexJob, countInput } from '../src/main/engine/jobs/index-job'
import { pastedSequenceFeatures } from '../src/main/engine/jobs/pasted-sequence-features'
import { LatentExtractor } from '../src/main/engine/sae/latent-extractor'
import type { LatentSource } from '../src/main/engine/sae/latent-source'
import { loadSae } from '../src/main/engine/sae/sae-load'
import type { SaeWeights } from '../src/main/engine/sae/sae-weights'
import { roundTripValue, toSparseLatents } from '../src/main/engine/store/latent-codec'
import { LatentStore } from '../src/main/engine/store/latent-store'
import { densify } from '../src/main/engine/sae/sparse-latents'
import type { IndexProgress } from '../src/shared/store-types'
import { writeHfCheckpoint } from './fixtures/esm2-checkpoint'
import { writePreprintSae } from './fixtures/sae-checkpoints'
import { randomProtein } from './helpers/compare'
import { tempDir } from './helpers/tmp'
import { referenceStats, type DenseProtein } from './reference/store-reference'

const ROOT = join(__dirname, '..')
const SWISSPROT_2012 = join(ROOT, '..', 'shared', 'data', 'sequences', 'swissprot-100.dat')
const CPU = { device: 'cpu' as const, deviceId: 0, threads: 2 }
const N = 48
const tmp = tempDir('index-job')
let imported: ImportedEsm2
let model: Esm2Model
let sae: SaeWeights
let sae2: SaeWeights
let extractor: LatentExtractor
let fasta: string
const modelDir = join(tmp.dir, 'model')
const cacheDir = join(tmp.dir, 'cache')
const saeDir = join(tmp.dir, 'sae')

beforeAll(async () => {
  writeHfCheckpoint(modelDir, 'tiny', 3, { omitTiedDecoder: true })
  writePreprintSae(saeDir, { dIn: 32, dSae: 48 }, 4, { block: 1 })
  writePreprintSae(join(tmp.dir, 'sae2'), { dIn: 32, dSae: 40 }, 9, { block: 2 })
  imported = await importEsm2(modelDir, cacheDir)
  model = await Esm2Model.open(imported, CPU)
  sae = await loadSae(saeDir)
  sae2 = await loadSae(join(tmp.dir, 'sae2'))
  extractor = await LatentExtractor.open(model, sae)
  const lines: string[] = []
  for (let i = 0; i < N; i++) {
    lines.push(`>sp|T${String(i).padStart(4, '0')}|TEST${i}_HUMAN Test protein ${i} OS=Homo sapiens OX=9606`)
    lines.push(randomProtein(15 + ((i * 37) % 90), 100 + i))
    if (i === 10) lines.push('>broken stop codon', 'MKV*LL')
  }
  fasta = join(tmp.dir, 'in.fasta')
  writeFileSync(fasta, `${lines.join('\n')}\n`)
})

afterAll(async () => {
  await extractor?.close()
  await model?.close()
  tmp.cleanup()
})

function job(
  store: LatentStore,
  input: string,
  extra: Partial<ConstructorParameters<typeof IndexJob>[0]> = {}
): IndexJob {
  return new IndexJob({
    store,
    input,
    source: extractor,
    model: { name: imported.name, hash: imported.hash },
    sae: { name: sae.name, hash: sae.hash },
    topK: 5,
    batchProteins: 3,
    onBadRecord: 'skip',
    ...extra
  })
}

/** The stored latents of every protein as dense float64 (for the brute-force statistics). */
function storedDense(store: LatentStore, runId: number): DenseProtein[] {
  const out: DenseProtein[] = []
  for (const it of store.scanLatents(runId)) {
    const d = densify(toSparseLatents('x', it.latents))
    out.push({
      proteinId: it.proteinId,
      length: it.length,
      dense: Float64Array.from(d),
      annotations: JSON.parse(it.annotations)
    })
  }
  return out
}

describe('IndexJob', () => {
  it('reports progress from the first proteins: rate and ETA as latents arrive, and an early first commit', async () => {
    const store = LatentStore.open(join(tmp.dir, 'first-batch.sqlite'))
    // A source that takes 60 ms a protein, and a batch size larger than the file: progress must not wait for it.
    const slow: LatentSource = {
      dSae: extractor.dSae,
      layer: extractor.layer,
      async *extract(inputs, opts) {
        for await (const l of extractor.extract(inputs, opts)) {
          await new Promise(r => setTimeout(r, 60))
          yield l
        }
      },
      close: async () => undefined // the shared extractor is closed by afterAll
    }
    const progress: IndexProgress[] = []
    const res = await job(store, fasta, {
      source: slow,
      batchProteins: 10_000,
      onProgress: p => progress.push({ ...p })
    }).run()
    expect(res.proteinsIndexed).toBe(N)
    // Rate and ETA before anything is committed …
    const first = progress.find(p => p.phase === 'latents' && p.residuesPerSecond > 0)!
    expect(first.proteinsDone).toBe(0)
    expect(first.etaSeconds).not.toBeNull()
    // … and proteins done (committed, so a crash keeps them) long before the file ends: the first commit is at 4.
    const early = progress.filter(p => p.phase === 'latents' && p.proteinsDone > 0 && p.proteinsDone < N)
    expect(early.length).toBeGreaterThan(0)
    expect(Math.min(...early.map(p => p.proteinsDone))).toBeLessThanOrEqual(8)
    expect(progress.at(-1)).toMatchObject({ phase: 'done', proteinsDone: N })
  })

  it('indexes a FASTA file: latents of the right proteins, statistics equal to a brute-force computation', async () => {
    const store = LatentStore.open(join(tmp.dir, 'plain.sqlite'))
    const progress: IndexProgress[] = []
    const res = await job(store, fasta, { onProgress: p => progress.push(p) }).run()
    expect(res).toMatchObject({ proteinsAdded: N, proteinsIndexed: N, skippedExisting: 0, cancelled: false })
    expect(res.badRecords).toEqual([expect.objectContaining({ file: fasta, line: 23, id: 'broken' })])
    expect(await countInput(fasta)).toEqual({ proteins: N + 1, residues: res.residuesIndexed + 6 })
    expect(progress.some(p => p.phase === 'latents' && p.residuesPerSecond > 0 && p.etaSeconds !== null)).toBe(true)
    expect(progress.at(-1)).toMatchObject({ phase: 'done', proteinsDone: N, badRecords: 1 })
    expect(store.run(res.runId)).toMatchObject({
      status: 'complete',
      proteins: N,
      statsUpToDate: true,
      layer: 2,
      dSae: 48
    })

    // stored latents = the extractor's dense latents of that same protein (values rounded to float16)
    const check = [0, 7, 31, N - 1].map(i => store.proteins.get(`T${String(i).padStart(4, '0')}`)!)
    for await (const d of extractor.dense(
      check.map(p => ({ id: String(p.id), tokens: tokenize(p.sequence, p.accession) }))
    )) {
      const stored = densify(toSparseLatents('x', store.latents(res.runId, Number(d.id))!))
      const W = d.width
      let maxErr = 0
      for (let r = 0; r < d.rows - 2; r++) {
        for (let j = 0; j < W; j++) {
          const v = d.values[(r + 1) * W + j]
          maxErr = Math.max(maxErr, Math.abs(stored[r * W + j] - (v > 0 ? roundTripValue(v) : 0)))
        }
      }
      expect(maxErr).toBeLessThan(2e-3)
    }

    // statistics = brute force over the stored latents
    const dense = storedDense(store, res.runId)
    const ref = referenceStats(dense, 48)
    const list = store.features.list({ limit: 100 }).items
    expect(list.length).toBe(48)
    for (const f of list) {
      expect(f.freqResidue).toBeCloseTo(ref.firingResidues[f.id] / ref.residues, 12)
      expect(f.freqProtein).toBeCloseTo(ref.firingProteins[f.id] / ref.proteins, 12)
      expect(f.max).toBeCloseTo(ref.max[f.id], 6)
      expect(f.meanNonzero).toBeCloseTo(ref.meanNz[f.id], 6)
      const d = store.features.detail(f.id)
      expect(d.topProteins.map(p => p.protein.id)).toEqual(ref.ranking[f.id].slice(0, 5).map(r => r[0]))
    }
    expect(list.some(f => !f.dead)).toBe(true)
    store.close()
  })

  it('resumes after kill -9 with nothing lost or counted twice, and equals an uninterrupted run', async () => {
    const dbPath = join(tmp.dir, 'crash.sqlite')
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'test/helpers/index-job-child.ts'),
        modelDir,
        cacheDir,
        saeDir,
        fasta,
        dbPath,
        '40'
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe']
      }
    )
    let stderr = ''
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    const killedAt = await new Promise<number>((resolve, reject) => {
      let buf = ''
      child.stdout.on('data', (b: Buffer) => {
        buf += b.toString()
        const lines = buf.split('\n')
        buf = lines.pop() ?? ''
        for (const l of lines) {
          const m = JSON.parse(l) as { done?: number; finished?: boolean }
          if (m.finished) reject(new Error('the child finished before it could be killed'))
          if ((m.done ?? 0) >= 12) {
            child.kill('SIGKILL')
            resolve(m.done!)
            return
          }
        }
      })
      child.on('exit', (code, signal) => {
        if (signal !== 'SIGKILL') reject(new Error(`child exited (${code}) before the kill: ${stderr}`))
      })
    })
    await new Promise(r => child.once('close', r))
    expect(child.signalCode).toBe('SIGKILL')

    const store = LatentStore.open(dbPath)
    const runs = store.runs()
    expect(runs.length).toBe(1)
    expect(runs[0].status).toBe('indexing')
    const before = runs[0].proteins
    expect(before).toBeGreaterThanOrEqual(killedAt)
    expect(before).toBeLessThan(N)
    expect(runs[0].statsUpToDate).toBe(false)

    const res = await job(store, fasta).run()
    expect(res.skippedExisting).toBe(before)
    expect(res.proteinsIndexed).toBe(N - before)
    expect(res.proteinsAdded).toBe(0)
    expect(store.run(res.runId)).toMatchObject({ status: 'complete', proteins: N, statsUpToDate: true })
    expect(store.proteins.list().total).toBe(N)

    const plain = LatentStore.open(join(tmp.dir, 'plain.sqlite'))
    const a = store.features.list({ limit: 100 }).items
    const b = plain.features.list({ limit: 100 }).items
    expect(a.length).toBe(b.length)
    for (let i = 0; i < a.length; i++) {
      expect(a[i].freqResidue).toBeCloseTo(b[i].freqResidue, 3)
      expect(a[i].freqProtein).toBeCloseTo(b[i].freqProtein, 3)
      expect(Math.abs(a[i].max - b[i].max)).toBeLessThanOrEqual(2e-3 * Math.max(1, b[i].max))
      expect(Math.abs(a[i].meanNonzero - b[i].meanNonzero)).toBeLessThanOrEqual(2e-3 * Math.max(1, b[i].meanNonzero))
    }
    const stats = store.db.prepare('SELECT proteins, residues FROM run_stats').get()
    expect(stats).toEqual(plain.db.prepare('SELECT proteins, residues FROM run_stats').get())
    for (const acc of ['T0000', 'T0020', 'T0047']) {
      const pa = store.proteins.get(acc)!
      const pb = plain.proteins.get(acc)!
      expect(pa.sequence).toBe(pb.sequence)
      const da = densify(toSparseLatents('a', store.latents(res.runId, pa.id)!))
      const db = densify(toSparseLatents('b', plain.latents(plain.runs()[0].id, pb.id)!))
      let err = 0
      for (let k = 0; k < da.length; k++) err = Math.max(err, Math.abs(da[k] - db[k]))
      expect(err).toBeLessThan(2e-3)
    }
    // statistics of the resumed store = brute force over its stored latents
    const ref = referenceStats(storedDense(store, res.runId), 48)
    for (const f of a) {
      expect(f.freqResidue).toBeCloseTo(ref.firingResidues[f.id] / ref.residues, 12)
      expect(f.max).toBeCloseTo(ref.max[f.id], 6)
    }
    plain.close()

    // a second run on the same input does no work
    const progress: IndexProgress[] = []
    const again = await job(store, fasta, { onProgress: p => progress.push(p) }).run()
    expect(again).toMatchObject({ proteinsAdded: 0, proteinsIndexed: 0, residuesIndexed: 0, skippedExisting: N })
    expect(progress.some(p => p.phase === 'statistics')).toBe(false)
    store.close()
  })

  it('re-indexing with another SAE keeps the proteins, the labels stay with their SAE; UniProt input brings concepts', async () => {
    const store = LatentStore.open(join(tmp.dir, 'uniprot.sqlite'))
    const first = await job(store, SWISSPROT_2012).run()
    expect(first).toMatchObject({ proteinsAdded: 100, proteinsIndexed: 100 })
    store.setFeatureLabel({ runId: first.runId, feature: 3, label: 'first SAE feature 3' })
    const ex2 = await LatentExtractor.open(model, sae2)
    try {
      const second = await job(store, SWISSPROT_2012, { source: ex2, sae: { name: sae2.name, hash: sae2.hash } }).run()
      expect(second.runId).not.toBe(first.runId)
      expect(second).toMatchObject({ proteinsAdded: 0, proteinsIndexed: 100 })
    } finally {
      await ex2.close()
    }
    expect(store.proteins.list().total).toBe(100)
    const runs = store.runs()
    expect(runs.map(r => [r.layer, r.dSae, r.proteins, r.status])).toEqual([
      [2, 48, 100, 'complete'],
      [3, 40, 100, 'complete']
    ])
    expect(store.features.detail(3, { runId: runs[0].id }).label).toBe('first SAE feature 3')
    expect(store.features.detail(3, { runId: runs[1].id }).label).toBe('')
    // re-running statistics (re-indexing) keeps the label
    await store.computeStatistics(runs[0].id, { topK: 5 })
    expect(store.features.detail(3, { runId: runs[0].id }).label).toBe('first SAE feature 3')
    // the annotated UniProt proteins give concept rows; the annotations come with the examples
    const withConcepts = store.features.list({ runId: runs[0].id, conceptType: 'any', limit: 100 })
    expect(withConcepts.total).toBeGreaterThan(0)
    const d = store.features.detail(withConcepts.items[0].id, { runId: runs[0].id })
    expect(d.concepts.length).toBeGreaterThan(0)
    expect(d.topProteins.some(p => p.annotations.length > 0)).toBe(true)
    const ubr5 = store.proteins.get('Q62671')!
    expect(ubr5.length).toBe(2788) // longer than the window: stitched by the extractor
    expect(
      store.proteins.features({ runId: runs[0].id, protein: 'Q62671', range: { start: 1160, end: 1240 }, limit: 5 })
        .items.length
    ).toBeGreaterThan(0)
    store.close()
  })

  it('stops on a bad record when asked, keeping what was committed; cancels cleanly', async () => {
    const store = LatentStore.open(join(tmp.dir, 'stop.sqlite'))
    await expect(job(store, fasta, { onBadRecord: 'stop' }).run()).rejects.toThrow(
      /in\.fasta:23: bad record "broken".*not in the ESM alphabet/
    )
    expect(store.runs()[0].status).toBe('failed')
    const kept = store.runs()[0].proteins
    expect(kept).toBeLessThanOrEqual(11)
    const ctrl = new AbortController()
    let yielded = 0
    // the real extractor; the user presses cancel after 20 proteins came out of it
    const cancelling: LatentSource = {
      dSae: extractor.dSae,
      layer: extractor.layer,
      close: async () => {},
      async *extract(inputs, o) {
        for await (const l of extractor.extract(inputs, o)) {
          yield l
          if (++yielded === 20) ctrl.abort()
        }
      }
    }
    const res = await job(store, fasta, { signal: ctrl.signal, source: cancelling }).run()
    expect(res.cancelled).toBe(true)
    expect(store.runs()[0].status).toBe('cancelled')
    const done = store.runs()[0].proteins
    expect(done).toBeGreaterThanOrEqual(20)
    expect(done).toBeLessThan(N)
    expect(store.run(res.runId)!.statsUpToDate).toBe(false)
    const fin = await job(store, fasta).run()
    expect(fin.skippedExisting + fin.proteinsIndexed).toBe(N)
    expect(store.run(fin.runId)!.status).toBe('complete')
    store.close()
  })

  it('computes features of a typed sequence live, answered like a stored protein', async () => {
    const store = LatentStore.open(join(tmp.dir, 'plain.sqlite'))
    const p = store.proteins.get('T0005')!
    const live = await pastedSequenceFeatures(store, extractor, {
      sequence: p.sequence.toLowerCase(),
      sortBy: 'mean',
      limit: 10,
      withTracks: 1
    })
    const stored = store.proteins.features({ protein: p.id, sortBy: 'mean', limit: 10 })
    expect(live.protein).toBeNull()
    expect(live.sequence).toBe(p.sequence)
    expect(live.items.length).toBe(stored.items.length)
    live.items.forEach((h, i) => {
      expect(Math.abs(h.mean - stored.items[i].mean)).toBeLessThan(2e-3 * Math.max(1, h.mean))
    })
    expect(live.items[0].activations?.length).toBe(p.length)
    expect(await store.proteins.list().total).toBe(N) // nothing stored
    const other = await LatentExtractor.open(model, sae2)
    await expect(pastedSequenceFeatures(store, other, { sequence: 'MKV' })).rejects.toThrow(/not the one of run/)
    await other.close()
    store.close()
  })
})
