import { afterAll, describe, expect, it } from 'vitest'
import Database from 'better-sqlite3'
import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { LatentStore } from '../src/main/engine/store/latent-store'
import { encodeLatents } from '../src/main/engine/store/latent-codec'
import { MIGRATIONS, SCHEMA_VERSION } from '../src/main/engine/store/schema'
import { sparsify } from '../src/main/engine/sae/sparse-latents'
import { tempDir } from './helpers/tmp'
import { syntheticProteins } from './reference/store-reference'

const tmp = tempDir('store-migrations')
afterAll(() => tmp.cleanup())

describe('schema migrations', () => {
  it('opens a store written by schema v1 and migrates it, keeping proteins, runs, latents and labels', async () => {
    const path = `${tmp.dir}/v1.sqlite`
    const v1 = LatentStore.open(path, { schemaVersion: 1 })
    expect(v1.schemaVersion).toBe(1)
    v1.close()
    // What the v1 app wrote (raw SQL: today's code writes v2 columns).
    const width = 16
    const synth = syntheticProteins(12, width, 5)
    const db = new Database(path)
    const t = '2025-01-01T00:00:00.000Z'
    db.prepare(
      "INSERT INTO runs (id, model_name, model_hash, sae_name, sae_hash, layer, d_sae, settings, status, created_at, updated_at) VALUES (1, 'esm2', 'mh', 'sae', 'sh', 4, ?, '{}', 'complete', ?, ?)"
    ).run(width, t, t)
    synth.forEach((s, i) => {
      db.prepare(
        'INSERT INTO proteins (id, accession, name, organism, description, sequence, length, annotations) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'
      ).run(i + 1, `Q${i}`, '', '', '', s.sequence, s.sequence.length, JSON.stringify(s.annotations))
      db.prepare('INSERT INTO latents (run_id, protein_id, rows, nnz, data) VALUES (1, ?, ?, ?, ?)').run(
        i + 1,
        s.sequence.length,
        0,
        encodeLatents(sparsify('x', s.dense, s.sequence.length, width))
      )
    })
    db.prepare(
      "INSERT INTO feature_labels (sae_hash, feature, label, notes, updated_at) VALUES ('sh', 3, 'old label', 'old notes', ?)"
    ).run(t)
    db.close()

    const store = LatentStore.open(path)
    expect(store.schemaVersion).toBe(SCHEMA_VERSION)
    expect(SCHEMA_VERSION).toBeGreaterThan(1)
    const versions = store.db.prepare('SELECT version FROM schema_version ORDER BY version').pluck().all()
    expect(versions).toEqual(MIGRATIONS.map(m => m.version))
    expect(store.proteins.list({ limit: 100 }).total).toBe(12)
    expect(store.runs()[0]).toMatchObject({ id: 1, proteins: 12, statsUpToDate: false })
    await store.computeStatistics(1)
    expect(store.run(1)!.statsUpToDate).toBe(true)
    const f3 = store.features.detail(3)
    expect([f3.label, f3.notes]).toEqual(['old label', 'old notes'])
    // new v2 column usable
    store.addProteins([
      {
        accession: 'NEW',
        name: '',
        organism: '',
        description: '',
        sequence: 'MKV',
        annotations: [],
        file: 'f.fasta',
        line: 3
      }
    ])
    expect(store.db.prepare("SELECT source_line FROM proteins WHERE accession = 'NEW'").pluck().get()).toBe(3)
    store.close()
    // opening again is a no-op
    const again = LatentStore.open(path)
    expect(again.schemaVersion).toBe(SCHEMA_VERSION)
    again.close()
  })

  it('refuses a store from a newer version and a file that is not a store', () => {
    const path = `${tmp.dir}/future.sqlite`
    LatentStore.open(path).close()
    const db = new Database(path)
    db.prepare("INSERT INTO schema_version (version, description, applied_at) VALUES (99, 'future', 'x')").run()
    db.close()
    expect(() => LatentStore.open(path)).toThrow(/schema version 99.*newer/)
    const junk = `${tmp.dir}/junk.sqlite`
    writeFileSync(junk, 'this is not sqlite at all, just some text that is long enough to look like a header....')
    expect(() => LatentStore.open(junk)).toThrow(/junk\.sqlite/)
  })
  it('keeps migration 2 as written, and an upgraded store has the schema of a new one', () => {
    // Migration 2's SQL is part of every store made since: its text (sha256) must never change.
    const m2 = MIGRATIONS.find(m => m.version === 2)!
    expect(createHash('sha256').update(m2.up).digest('hex')).toBe(
      'b904b69b407043b6c4960b032dc36066064db71262009ebcdb053547536374a1'
    )
    const schemaOf = (path: string): unknown[] => {
      const db = new Database(path, { readonly: true })
      try {
        return db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name').all()
      } finally {
        db.close()
      }
    }
    const upgraded = `${tmp.dir}/upgraded.sqlite`
    for (const m of MIGRATIONS) LatentStore.open(upgraded, { schemaVersion: m.version }).close()
    const fresh = `${tmp.dir}/fresh.sqlite`
    LatentStore.open(fresh).close()
    expect(schemaOf(fresh).length).toBeGreaterThan(10)
    expect(schemaOf(upgraded)).toEqual(schemaOf(fresh))
  })
})
