import { afterAll, describe, expect, it } from 'vitest'
import { statSync } from 'node:fs'
import {
  decodeFeatureMajor,
  encodeLatents,
  fromHalf,
  roundTripValue,
  toHalf,
  toSparseLatents,
  trackOf
} from '../src/main/engine/store/latent-codec'
import { densify, featureTrack, sparsify } from '../src/main/engine/sae/sparse-latents'
import { LatentStore } from '../src/main/engine/store/latent-store'
import { tempDir } from './helpers/tmp'
import { syntheticProteins } from './reference/store-reference'

const tmp = tempDir('store-latents')
afterAll(() => tmp.cleanup())

describe('float16', () => {
  it('round-trips every finite half exactly and rounds floats to the nearest half', () => {
    for (let h = 0; h < 0x7c00; h++) expect(toHalf(fromHalf(h))).toBe(h)
    // independent check: the nearest half by search over neighbours
    for (const v of [1e-7, 3.3e-5, 0.1, 0.333333, 1, 1.0005, 2.71828, 1000.7, 65504, 70000]) {
      const h = toHalf(v)
      const err = Math.abs(fromHalf(h) - Math.min(v, 65504))
      expect(err).toBeLessThanOrEqual(Math.abs(fromHalf(h + 1) - v))
      if (h > 0) expect(err).toBeLessThanOrEqual(Math.abs(fromHalf(h - 1) - v))
    }
    expect(roundTripValue(1e-12)).toBeGreaterThan(0)
  })
})

describe('latent blob encoding', () => {
  it('decodes to the same sparse latents (values rounded to float16)', () => {
    const width = 300
    for (const s of syntheticProteins(5, width, 3, { minLen: 1, maxLen: 400 })) {
      const rows = s.sequence.length
      const sp = sparsify('x', s.dense, rows, width)
      const blob = encodeLatents(sp)
      const m = decodeFeatureMajor(blob)
      const back = toSparseLatents('x', m)
      expect(Array.from(back.indptr)).toEqual(Array.from(sp.indptr))
      expect(Array.from(back.features)).toEqual(Array.from(sp.features))
      expect(Array.from(back.values)).toEqual(Array.from(sp.values, v => roundTripValue(v)))
      const dense = densify(back)
      for (const f of [0, 1, 2, 5, 299]) {
        const t = trackOf(m, f)
        const ref = featureTrack(sp, f)
        for (let r = 0; r < rows; r++) {
          expect(t[r]).toBe(dense[r * width + f])
          expect(Math.abs(t[r] - ref[r])).toBeLessThanOrEqual(ref[r] * 2 ** -11 + 1e-7)
        }
      }
    }
  })

  it('handles empty proteins and proteins where nothing fires', () => {
    const sp = sparsify('e', new Float32Array(10 * 4), 10, 4)
    const m = decodeFeatureMajor(encodeLatents(sp))
    expect(m.rows).toBe(10)
    expect(m.featureIds.length).toBe(0)
    expect(Array.from(trackOf(m, 2))).toEqual(new Array(10).fill(0))
  })

  it('rejects a truncated blob with a clear message', () => {
    const s = syntheticProteins(1, 50, 1)[0]
    const blob = encodeLatents(sparsify('t', s.dense, s.sequence.length, 50))
    expect(() => decodeFeatureMajor(blob.subarray(0, blob.length - 3))).toThrow(/truncated/)
  })
})

describe('LatentStore latents', () => {
  it('stores latents per run and protein, redraws any track, never overwrites, and reports its size', () => {
    const path = `${tmp.dir}/a.sqlite`
    const store = LatentStore.open(path)
    const width = 64
    const synth = syntheticProteins(20, width, 11)
    const { ids, added } = store.addProteins(
      synth.map((s, i) => ({
        accession: `A${i}`,
        name: '',
        organism: '',
        description: '',
        sequence: s.sequence,
        annotations: s.annotations
      }))
    )
    expect(added).toBe(20)
    // same accession + same sequence: not added again; different sequence: a conflict
    const again = store.addProteins([
      { accession: 'A0', name: '', organism: '', description: '', sequence: synth[0].sequence, annotations: [] }
    ])
    expect(again).toMatchObject({ ids: [ids[0]], added: 0, conflicts: [] })
    const clash = store.addProteins([
      {
        accession: 'A1',
        name: '',
        organism: '',
        description: '',
        sequence: 'MKV',
        annotations: [],
        file: 'x.fasta',
        line: 9
      }
    ])
    expect(clash.conflicts[0]).toMatchObject({ file: 'x.fasta', line: 9, id: 'A1' })
    const run = store.ensureRun({ modelName: 'm', modelHash: 'mh', saeName: 's', saeHash: 'sh', layer: 4, dSae: width })
    expect(
      store.ensureRun({ modelName: 'm', modelHash: 'mh', saeName: 's', saeHash: 'sh', layer: 4, dSae: width }).id
    ).toBe(run.id)
    const items = synth.map((s, i) => ({
      proteinId: ids[i],
      latents: sparsify(String(ids[i]), s.dense, s.sequence.length, width)
    }))
    const bytes = store.putLatents(run.id, items.slice(0, 10))
    expect(bytes).toBeGreaterThan(0)
    expect(store.putLatents(run.id, items)).toBeGreaterThan(0)
    expect(store.putLatents(run.id, items)).toBe(0) // already there: nothing written twice
    expect(store.proteinsWithLatents(run.id).size).toBe(20)
    expect(() =>
      store.putLatents(run.id, [{ proteinId: ids[0], latents: sparsify('x', new Float32Array(3 * width), 3, width) }])
    ).toThrow(/rows/)
    store.close()
    const reopened = LatentStore.open(path)
    for (const f of [0, 1, 2, 17]) {
      const track = reopened.proteins.featureTrack(run.id, 'A3', f)
      const ref = featureTrack(items[3].latents, f)
      expect(track).toEqual(Array.from(ref, v => (v > 0 ? roundTripValue(v) : 0)))
    }
    const size = reopened.latentBytes(run.id)
    expect(size.proteins).toBe(20)
    expect(size.residues).toBe(synth.reduce((a, s) => a + s.sequence.length, 0))
    const nnz = items.reduce((a, it) => a + it.latents.indptr[it.latents.rows], 0)
    // ≤ 2 bytes value + ≤ 2 bytes position + feature header per entry
    expect(size.bytes / nnz).toBeLessThan(5)
    expect(reopened.info().bytes).toBeGreaterThan(0)
    expect(statSync(path).size).toBeGreaterThan(0)
    expect(reopened.db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(reopened.db.pragma('foreign_keys', { simple: true })).toBe(1)
    reopened.close()
  })
})
