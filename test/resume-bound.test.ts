/**
 * Resume equals a clean run within a stated bound (README, "Progress, cancel, resume"): a protein's latents
 * do not depend on which other proteins share its batch, except for float32 rounding in the model's batched
 * matrix products. After the store's float16 encoding, that shows as: every stored value of a protein is equal
 * within 1e-3 of that protein's largest activation (most are identical; a differing value is usually one
 * float16 step apart, more for small values, whose SAE pre-activation cancels), and a feature present in one run
 * but not the other fired below that bound. Checked here with
 * the real extractor (a random-weight ESM2 + SAE), the same proteins indexed one per batch and packed in
 * large batches, as a resume re-batches them.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { importEsm2, type ImportedEsm2 } from '../src/main/engine/esm/esm2-import'
import { DEFAULT_BATCHING, Esm2Model } from '../src/main/engine/esm/esm2-model'
import { IndexJob } from '../src/main/engine/jobs/index-job'
import { LatentExtractor } from '../src/main/engine/sae/latent-extractor'
import { loadSae } from '../src/main/engine/sae/sae-load'
import type { SaeWeights } from '../src/main/engine/sae/sae-weights'
import { toSparseLatents } from '../src/main/engine/store/latent-codec'
import { LatentStore } from '../src/main/engine/store/latent-store'
import { densify } from '../src/main/engine/sae/sparse-latents'
import { writeHfCheckpoint } from './fixtures/esm2-checkpoint'
import { writePreprintSae } from './fixtures/sae-checkpoints'
import { randomProtein } from './helpers/compare'
import { tempDir } from './helpers/tmp'

const tmp = tempDir('resume-bound')
let imported: ImportedEsm2
let model: Esm2Model
let sae: SaeWeights
let fasta: string
const N = 40
/** The README's bound: |resumed − clean| ≤ this × the protein's largest activation. */
const RESUME_BOUND = 1e-3

beforeAll(async () => {
  writeHfCheckpoint(join(tmp.dir, 'model'), 'tiny', 31, { omitTiedDecoder: true })
  writePreprintSae(join(tmp.dir, 'sae'), { dIn: 32, dSae: 64 }, 32, { block: 1 })
  imported = await importEsm2(join(tmp.dir, 'model'), join(tmp.dir, 'cache'))
  model = await Esm2Model.open(imported, { device: 'cpu', deviceId: 0, threads: 2 })
  sae = await loadSae(join(tmp.dir, 'sae'))
  const lines: string[] = []
  for (let i = 0; i < N; i++) lines.push(`>R${i}`, randomProtein(20 + ((i * 29) % 110), 700 + i))
  fasta = join(tmp.dir, 'in.fasta')
  writeFileSync(fasta, `${lines.join('\n')}\n`)
})
afterAll(async () => {
  await model?.close()
  tmp.cleanup()
})

/** The float16 step (unit in the last place) at |v|. */
function halfStep(v: number): number {
  const a = Math.abs(v)
  return a < 2 ** -14 ? 2 ** -24 : 2 ** (Math.floor(Math.log2(a)) - 10)
}

async function indexWith(name: string, batching: typeof DEFAULT_BATCHING): Promise<LatentStore> {
  const extractor = await LatentExtractor.open(model, sae, { batching })
  const store = LatentStore.open(join(tmp.dir, `${name}.sqlite`))
  await new IndexJob({
    store,
    input: fasta,
    source: extractor,
    model: { name: 'm', hash: imported.hash },
    sae: { name: 's', hash: sae.hash },
    batchProteins: 7
  }).run()
  await extractor.close()
  return store
}

describe('resume equals a clean run within the stated bound', () => {
  it("one protein per batch vs packed batches: equal within 1e-3 of the protein's max activation", async () => {
    const solo = await indexWith('solo', { maxBatchTokens: 4096, maxBatchSize: 1 })
    const packed = await indexWith('packed', { maxBatchTokens: 4096, maxBatchSize: 32 })
    let both = 0
    let differing = 0
    let oneSided = 0
    let worstSteps = 0
    let worstOneSided = 0
    let worstAbs = 0
    let beyondStep = 0
    for (let i = 0; i < N; i++) {
      const a = densify(toSparseLatents('a', solo.latents(1, solo.proteins.get(`R${i}`)!.id)!))
      const b = densify(toSparseLatents('b', packed.latents(1, packed.proteins.get(`R${i}`)!.id)!))
      let scale = 0
      for (let k = 0; k < a.length; k++) scale = Math.max(scale, a[k], b[k])
      for (let k = 0; k < a.length; k++) {
        if (a[k] > 0 && b[k] > 0) {
          both++
          if (a[k] !== b[k]) differing++
          worstSteps = Math.max(worstSteps, Math.abs(a[k] - b[k]) / halfStep(Math.max(a[k], b[k])))
          worstAbs = Math.max(worstAbs, Math.abs(a[k] - b[k]) / scale)
          if (Math.abs(a[k] - b[k]) > halfStep(Math.max(a[k], b[k]))) beyondStep++
        } else if (a[k] > 0 || b[k] > 0) {
          oneSided++
          worstOneSided = Math.max(worstOneSided, Math.max(a[k], b[k]) / scale)
        }
      }
    }
    console.log(
      `resume bound: ${both} values in both runs, ${differing} differ (worst ${worstSteps} float16 steps, ${beyondStep} by more than one; worst ${worstAbs.toExponential(2)} of the protein's max); ${oneSided} one-sided, worst ${worstOneSided.toExponential(2)} of the protein's max`
    )
    expect(both).toBeGreaterThan(1000)
    expect(differing).toBeLessThan(both / 100)
    expect(worstAbs).toBeLessThanOrEqual(RESUME_BOUND)
    expect(worstOneSided).toBeLessThanOrEqual(RESUME_BOUND)
    solo.close()
    packed.close()
  })
})
