/**
 * The indexing benchmarks' model, SAE and input (bench:index, bench:merge): an ESM2 8M-shaped random model in the
 * real HF checkpoint format and a 10,240-latent random SAE in the preprint's format at layer 4, whose encoder
 * biases are calibrated on real layer-4 hidden states of sequences outside the benchmark input so that about
 * `perResidue` latents fire per residue; the input is the first N sequences of the benchmark set.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tokenize } from '../src/main/engine/esm/alphabet'
import type { ImportedEsm2 } from '../src/main/engine/esm/esm2-import'
import type { Esm2Model } from '../src/main/engine/esm/esm2-model'
import { openEsm2 } from '../src/main/engine/esm/open-esm2'
import { readFasta } from '../src/main/engine/io/fasta'
import { LatentExtractor } from '../src/main/engine/sae/latent-extractor'
import { loadSae } from '../src/main/engine/sae/sae-load'
import type { SaeWeights } from '../src/main/engine/sae/sae-weights'
import { writeHfCheckpoint } from '../test/fixtures/esm2-checkpoint'
import { calibratedEncoderBias, randomPreprintTensors, writePreprintSae } from '../test/fixtures/sae-checkpoints'
import { UNIPROT_20K } from './bench-args'

export const BENCH_LAYER = 4
export const BENCH_D_SAE = 10_240

export interface BenchIndexFixtures {
  imported: ImportedEsm2
  model: Esm2Model
  sae: SaeWeights
  extractor: LatentExtractor
}

/** The model and calibrated SAE in `dir`; calibration reads sequences after the first `inputSequences`. */
export async function benchIndexFixtures(
  dir: string,
  o: { threads: number; inputSequences: number; perResidue: number; calibrationRows: number }
): Promise<BenchIndexFixtures> {
  const modelDir = join(dir, 'esm2_8M_random')
  writeHfCheckpoint(modelDir, '8M', 1, { omitTiedDecoder: true })
  const model = await openEsm2({
    modelDir,
    cacheRoot: join(dir, 'cache'),
    runtime: { device: 'cpu', deviceId: 0, threads: o.threads }
  })
  const imported = model.imported
  const H = imported.config.hiddenSize
  const shape = { dIn: H, dSae: BENCH_D_SAE }
  const seed = 11
  // calibrate the encoder biases on layer-4 hidden states of sequences outside the benchmark set
  const calib: { id: string; tokens: Int32Array }[] = []
  let n = 0
  for await (const r of readFasta(UNIPROT_20K)) {
    if (n++ < o.inputSequences) continue
    if (calib.length >= 12) break
    calib.push({ id: r.id, tokens: tokenize(r.sequence.slice(0, 200), r.id) })
  }
  const rows: Float32Array[] = []
  let rowCount = 0
  for await (const out of model.forward(calib, { hidden: [BENCH_LAYER], logits: false })) {
    const h = out.hidden.get(BENCH_LAYER)!
    const T = h.length / H
    for (let t = 1; t < T - 1 && rowCount < o.calibrationRows; t++, rowCount++) rows.push(h.slice(t * H, (t + 1) * H))
  }
  const x = new Float32Array(rowCount * H)
  rows.forEach((r, i) => x.set(r, i * H))
  const t0 = randomPreprintTensors(shape, seed)
  const encBias = calibratedEncoderBias(t0.W_enc.data, t0.b_dec.data, x, rowCount, shape, o.perResidue)
  const saeDir = join(dir, 'sae_10240')
  writePreprintSae(saeDir, shape, seed, { block: BENCH_LAYER - 1, encBias })
  const sae = await loadSae(saeDir)
  const extractor = await LatentExtractor.open(model, sae)
  if (extractor.layer !== BENCH_LAYER) throw new Error(`SAE layer ${extractor.layer}, expected ${BENCH_LAYER}`)
  return { imported, model, sae, extractor }
}

/** The first `sequences` of the benchmark set as a FASTA file in `dir`. */
export async function writeBenchInput(dir: string, sequences: number): Promise<{ input: string; residues: number }> {
  const input = join(dir, 'input.fasta')
  const lines: string[] = []
  let residues = 0
  let n = 0
  for await (const r of readFasta(UNIPROT_20K)) {
    if (n++ >= sequences) break
    lines.push(`>${r.id} ${r.description}`, r.sequence)
    residues += r.sequence.length
  }
  writeFileSync(input, `${lines.join('\n')}\n`)
  return { input, residues }
}
