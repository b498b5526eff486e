/**
 * `plm-sae index --structures <folder>`: the label cards of a real (tiny, random) index run say whether firing
 * residues cluster in 3D on the structures of ../shared/data, matched to the input's proteins by their UniProt
 * cross-references; each card's distance is checked against a direct computation from the PDB file.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from './helpers/cli'
import { LatentStore } from '../src/main/engine/store/latent-store'
import { trackOf } from '../src/main/engine/store/latent-codec'
import { CARD_FIRING_FRACTION } from '../src/main/engine/store/label-card'
import { writeHfCheckpoint } from './fixtures/esm2-checkpoint'
import { writePreprintSae } from './fixtures/sae-checkpoints'
import { tempDir } from './helpers/tmp'

const tmp = tempDir('index-structures-cli')
afterAll(() => tmp.cleanup())
const STRUCTURES = join(__dirname, '..', '..', 'shared', 'data', 'structures')
const UBIQUITIN = 'MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG'

describe('plm-sae index --structures', () => {
  it('adds 3D clustering to the cards of features firing on a protein with a structure', async () => {
    const modelDir = join(tmp.dir, 'model')
    const saeDir = join(tmp.dir, 'sae')
    const input = join(tmp.dir, 'proteins.fasta')
    const db = join(tmp.dir, 'project.sqlite')
    writeFileSync(
      input,
      `>sp|P62988|UBIQ_HUMAN Ubiquitin\n${UBIQUITIN}\n>sp|X00001|OTHER\nMKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ\n`
    )
    writeHfCheckpoint(modelDir, 'tiny', 21, { omitTiedDecoder: true })
    writePreprintSae(saeDir, { dIn: 32, dSae: 24 }, 22, { block: 1 })
    const args = ['index', '--model', modelDir, '--sae', saeDir, '--input', input, '--db', db, '--device', 'cpu']
    const r = await runCli([...args, '--cache-dir', join(tmp.dir, 'cache'), '--structures', STRUCTURES, '-q'])
    expect(r.err).toBe('')
    expect(r.code).toBe(0)

    // CA atoms of 1UBQ read directly from the file (residue n = sequence position n - 1)
    const ca = new Map<number, number[]>()
    for (const m of readFileSync(join(STRUCTURES, '1ubq.pdb'), 'utf8').matchAll(
      /^ATOM {2}.{6} CA {2}\w{3} A *(\d+) {4}(.{8})(.{8})(.{8})/gm
    ))
      ca.set(Number(m[1]) - 1, [Number(m[2]), Number(m[3]), Number(m[4])])
    const store = LatentStore.open(db)
    const runId = store.runs()[0].id
    const ubq = store.proteins.list({ limit: 10 }).items.find(p => p.accession === 'P62988')!
    expect(ubq).toBeDefined()
    let checked = 0
    for (const f of store.features.list({ status: 'alive', limit: 100 }).items) {
      const d = store.features.detail(f.id)
      const card = d.labelCard!
      const track = trackOf(store.latents(runId, ubq.id)!, f.id)
      const firing: number[] = []
      track.forEach((v, r) => {
        if (v > CARD_FIRING_FRACTION * d.stats.max) firing.push(r)
      })
      if (firing.length < 3 || !d.topProteins.some(t => t.protein.id === ubq.id)) {
        expect(card.structure).toBeUndefined()
        continue
      }
      let sum = 0
      let n = 0
      for (let i = 0; i < firing.length; i++)
        for (let j = i + 1; j < firing.length; j++) {
          sum += Math.hypot(...ca.get(firing[i])!.map((x, k) => x - ca.get(firing[j])![k]))
          n++
        }
      expect(card.structure).toMatchObject({ structures: 1, chains: ['1UBQ:A'], residues: firing.length })
      expect(Math.abs(card.structure!.meanDistance - sum / n)).toBeLessThan(1e-3)
      expect(card.text).toMatch(/(clusters in 3D|no 3D clustering) \(mean CA distance/)
      checked++
    }
    expect(checked).toBeGreaterThan(0)
    store.close()
  })
})
