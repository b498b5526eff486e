/**
 * Does this SAE fit this model and layer? On a sample of proteins, per candidate layer L:
 *
 *   FVU        Σ_rows ‖x − x̂‖² / Σ_rows ‖x − x̄‖²   (x̄: the mean residue row of the sample at L; x̂ = decode(encode(x)))
 *   cosine     mean over rows of cos(x, x̂)
 *   L0         mean number of non-zero features per row
 *   dead       fraction of features that fire on no row of the sample
 *   dense      fraction of features that fire on more than 10% of the rows
 *   masked-LM  the model's cross-entropy at masked positions (15% of the residues, seeded; at least one per
 *              protein), with the residue rows of layer L replaced by: nothing (clean), the SAE reconstruction
 *              (spliced), zeros (zero ablation), the sample's mean row (mean ablation);
 *              recovered = (L_zero − L_spliced) / (L_zero − L_clean), and the same against mean ablation.
 * Rows are residue rows only (`<cls>`/`<eos>` are left as they are), as when indexing. Reconstruction statistics
 * use the unmasked proteins; the losses splice at layer L through the steering path (tokens → layer L, JS, layer
 * L → logits), so the clean loss here is exactly the model's.
 *
 * The report warns when another layer fits clearly better than the declared one, or when every layer fits poorly,
 * and proposes the best layer when the SAE's files name none.
 */
import { MASK_ID, tokenize } from '../esm/alphabet'
import { readProteins } from '../io/protein-input'
import type { Esm2Model } from '../esm/esm2-model'
import { batchesOf, STEER_BATCHING } from '../steer/steered-model'
import { mulberry32 } from '../random'
import { decodeRows, encodeRows, rowNorms } from './sae-math'
import type { SaeWeights } from './sae-weights'
import type { SaeLayerFit } from '../../../shared/library-types'

/** One layer's fit (shared/library-types.ts's `SaeLayerFit`) with the masked-LM losses it was computed from. */
export interface LayerFit extends SaeLayerFit {
  loss: { clean: number; spliced: number; zeroAblation: number; meanAblation: number }
}

/** The fit figures of a layer without its losses: what a library entry and a run keep. */
export function saeLayerFit(f: SaeLayerFit): SaeLayerFit {
  return {
    layer: f.layer,
    fvu: f.fvu,
    cosine: f.cosine,
    l0: f.l0,
    deadFraction: f.deadFraction,
    denseFraction: f.denseFraction,
    recoveredVsZero: f.recoveredVsZero,
    recoveredVsMean: f.recoveredVsMean
  }
}

export interface SaeFitReport {
  sae: { name: string; hash: string; format: string; dIn: number; dSae: number; layer: number | undefined }
  model: string
  proteins: number
  residues: number
  maskedPositions: number
  layers: LayerFit[]
  /** The layer with the lowest FVU. */
  bestLayer: number
  /** The layer the SAE's files name, if any. */
  declaredLayer?: number
  /** When the files name no layer: the best one. */
  proposedLayer?: number
  warnings: string[]
}

export interface FitOptions {
  /** Candidate layers (HF hidden_states numbering); default: the SAE's own, else every layer. */
  layers?: number[]
  maskFraction?: number
  seed?: number
  /** A feature firing on more than this fraction of rows is dense. */
  denseThreshold?: number
  onProgress?: (done: number, total: number) => void
}

/** Proteins of the input the fit check runs on before indexing, and at most this many residues in all (the check runs the SAE in JavaScript). */
export const FIT_SAMPLE_PROTEINS = 16
export const FIT_SAMPLE_RESIDUES = 600

/** FVU above this on the best layer: the SAE does not fit this model anywhere. */
export const POOR_FVU = 0.5
/** Another layer fits clearly better when its FVU is lower by this much (absolute) and by 20%. */
export const BETTER_BY = 0.1

/** The masked copy of each protein and the masked positions (token indices), seeded. */
export function maskProteins(
  tokens: Int32Array[],
  fraction: number,
  seed: number
): { masked: Int32Array[]; positions: number[][] } {
  const uniform = mulberry32(seed)
  const masked: Int32Array[] = []
  const positions: number[][] = []
  for (const t of tokens) {
    const m = t.slice()
    const pos: number[] = []
    for (let i = 1; i < t.length - 1; i++) if (uniform() < fraction) pos.push(i)
    if (pos.length === 0 && t.length > 2) pos.push(1 + Math.floor(uniform() * (t.length - 2)))
    for (const p of pos) m[p] = MASK_ID
    masked.push(m)
    positions.push(pos)
  }
  return { masked, positions }
}

/** Sum of −log softmax(logits)[target] over the positions (logits [T, V]). */
export function crossEntropySum(logits: Float32Array, vocab: number, positions: number[], targets: Int32Array): number {
  let sum = 0
  for (const p of positions) {
    const row = logits.subarray(p * vocab, (p + 1) * vocab)
    let max = -Infinity
    for (let v = 0; v < vocab; v++) if (row[v] > max) max = row[v]
    let z = 0
    for (let v = 0; v < vocab; v++) z += Math.exp(row[v] - max)
    sum += max + Math.log(z) - row[targets[p]]
  }
  return sum
}

function residueRows(h: Float32Array, T: number, H: number): Float32Array {
  return h.subarray(H, (T - 1) * H)
}

export async function checkSaeFit(
  model: Esm2Model,
  sae: SaeWeights,
  proteins: Int32Array[],
  opts: FitOptions = {}
): Promise<SaeFitReport> {
  const c = model.config
  const H = c.hiddenSize
  const V = c.vocabSize
  if (sae.dIn !== H)
    throw new Error(
      `SAE ${sae.name} reads vectors of width ${sae.dIn}, but ${model.imported.name} has hidden size ${H}: it was trained on another model`
    )
  if (proteins.length === 0) throw new Error('the fit check needs at least one protein')
  const tooLong = proteins.find(t => t.length - 2 > model.window)
  if (tooLong)
    throw new Error(
      `a protein of ${tooLong.length - 2} residues is longer than the model's window (${model.window}); the fit check runs whole proteins only`
    )
  const layers = [
    ...new Set(
      opts.layers ?? (sae.layer !== undefined ? [sae.layer] : Array.from({ length: c.numLayers + 1 }, (_, l) => l))
    )
  ].sort((a, b) => a - b)
  for (const l of layers)
    if (!Number.isInteger(l) || l < 0 || l > c.numLayers)
      throw new Error(`layer ${l} does not exist: ${model.imported.name} has layers 0 (embeddings) to ${c.numLayers}`)
  const { masked, positions } = maskProteins(proteins, opts.maskFraction ?? 0.15, opts.seed ?? 1)
  const maskedPositions = positions.reduce((a, p) => a + p.length, 0)
  const denseThreshold = opts.denseThreshold ?? 0.1
  const batches = batchesOf(
    proteins.map((t, i) => ({ t, m: masked[i], pos: positions[i], length: t.length })),
    STEER_BATCHING
  )
  const total = layers.length * batches.length
  let done = 0

  // clean loss: the model on the masked proteins (independent of the layer)
  let clean = 0
  for (const b of batches) {
    const res = await model.runBatch(
      b.map(x => x.m),
      { hidden: [], logits: true }
    )
    res.forEach((r, k) => (clean += crossEntropySum(r.logits!, V, b[k].pos, b[k].t)))
  }

  const fits: LayerFit[] = []
  for (const layer of layers) {
    // reconstruction statistics on the unmasked proteins
    const rows: Float32Array[] = []
    for (const b of batches) {
      const res = await model.runBatch(
        b.map(x => x.t),
        { hidden: [layer], logits: false }
      )
      res.forEach((r, k) => rows.push(residueRows(r.hidden.get(layer)!, b[k].length, H).slice()))
    }
    const n = rows.reduce((a, r) => a + r.length / H, 0)
    const mean = new Float64Array(H)
    for (const r of rows) for (let i = 0; i < r.length; i++) mean[i % H] += r[i]
    for (let i = 0; i < H; i++) mean[i] /= n
    let err = 0
    let varSum = 0
    let cosSum = 0
    let active = 0
    const fired = new Uint32Array(sae.dSae)
    for (const x of rows) {
      const R = x.length / H
      const norms = rowNorms(sae, x, R)
      const f = encodeRows(sae, x, R, norms)
      const xHat = decodeRows(sae, f, R, norms)
      for (let r = 0; r < R; r++) {
        let dot = 0
        let nx = 0
        let nh = 0
        for (let i = 0; i < H; i++) {
          const a = x[r * H + i]
          const b = xHat[r * H + i]
          err += (a - b) ** 2
          varSum += (a - mean[i]) ** 2
          dot += a * b
          nx += a * a
          nh += b * b
        }
        cosSum += nx > 0 && nh > 0 ? dot / Math.sqrt(nx * nh) : 0
        for (let j = 0; j < sae.dSae; j++) {
          if (f[r * sae.dSae + j] !== 0) {
            active++
            fired[j]++
          }
        }
      }
    }
    let dead = 0
    let dense = 0
    for (let j = 0; j < sae.dSae; j++) {
      if (fired[j] === 0) dead++
      if (fired[j] > denseThreshold * n) dense++
    }
    // masked-LM losses with layer L's residue rows replaced
    const loss = { spliced: 0, zeroAblation: 0, meanAblation: 0 }
    const meanRow = Float32Array.from(mean)
    for (const b of batches) {
      const prefix = await model.runBatch(
        b.map(x => x.m),
        { hidden: [layer], logits: false }
      )
      const variants: Record<keyof typeof loss, Float32Array[]> = { spliced: [], zeroAblation: [], meanAblation: [] }
      prefix.forEach((p, k) => {
        const T = b[k].length
        const h = p.hidden.get(layer)!
        const spliced = h.slice()
        const inner = residueRows(h, T, H)
        const R = inner.length / H
        const norms = rowNorms(sae, inner, R)
        spliced.set(decodeRows(sae, encodeRows(sae, inner, R, norms), R, norms), H)
        const zero = h.slice()
        zero.fill(0, H, (T - 1) * H)
        const meaned = h.slice()
        for (let r = 1; r < T - 1; r++) meaned.set(meanRow, r * H)
        variants.spliced.push(spliced)
        variants.zeroAblation.push(zero)
        variants.meanAblation.push(meaned)
      })
      for (const key of Object.keys(variants) as (keyof typeof loss)[]) {
        const out = await model.runBatch(
          b.map(x => x.m),
          { hidden: [], logits: true },
          { from: layer, hiddenIn: variants[key] }
        )
        out.forEach((r, k) => (loss[key] += crossEntropySum(r.logits!, V, b[k].pos, b[k].t)))
      }
      opts.onProgress?.(++done, total)
    }
    const per = (v: number): number => v / maskedPositions
    const L = {
      clean: per(clean),
      spliced: per(loss.spliced),
      zeroAblation: per(loss.zeroAblation),
      meanAblation: per(loss.meanAblation)
    }
    const recovered = (ablated: number): number =>
      ablated === L.clean ? 100 : (100 * (ablated - L.spliced)) / (ablated - L.clean)
    fits.push({
      layer,
      fvu: varSum > 0 ? err / varSum : 0,
      cosine: cosSum / n,
      l0: active / n,
      deadFraction: dead / sae.dSae,
      denseFraction: dense / sae.dSae,
      loss: L,
      recoveredVsZero: recovered(L.zeroAblation),
      recoveredVsMean: recovered(L.meanAblation)
    })
  }
  const best = fits.reduce((a, b) => (b.fvu < a.fvu ? b : a))
  const warnings = fitWarnings(fits, sae.layer)
  const totalResidues = proteins.reduce((a, t) => a + t.length - 2, 0)
  return {
    sae: { name: sae.name, hash: sae.hash, format: sae.format, dIn: sae.dIn, dSae: sae.dSae, layer: sae.layer },
    model: model.imported.name,
    proteins: proteins.length,
    residues: totalResidues,
    maskedPositions,
    layers: fits,
    bestLayer: best.layer,
    ...(sae.layer !== undefined ? { declaredLayer: sae.layer } : { proposedLayer: best.layer }),
    warnings
  }
}

/**
 * The warnings of a fit report: another layer fits clearly better than the declared one (FVU lower by
 * `BETTER_BY` and by 20%), or the best layer still has FVU above `POOR_FVU`.
 */
export function fitWarnings(fits: LayerFit[], declaredLayer: number | undefined): string[] {
  const best = fits.reduce((a, b) => (b.fvu < a.fvu ? b : a))
  const warnings: string[] = []
  const declared = declaredLayer !== undefined ? fits.find(f => f.layer === declaredLayer) : undefined
  const fmt = (f: LayerFit): string =>
    `layer ${f.layer}: FVU ${f.fvu.toFixed(3)}, ${f.recoveredVsZero.toFixed(1)}% of the masked-LM loss recovered`
  if (
    declared &&
    best.layer !== declared.layer &&
    best.fvu < declared.fvu - BETTER_BY &&
    best.fvu < 0.8 * declared.fvu
  ) {
    warnings.push(
      `the SAE's files say layer ${declared.layer}, but layer ${best.layer} fits clearly better (${fmt(best)}; ${fmt(declared)}): check the layer numbering or the model`
    )
  }
  if (best.fvu > POOR_FVU) {
    warnings.push(
      `the SAE fits poorly on every layer checked (best ${fmt(best)}): it was probably trained on another model${fits.length === 1 ? ' or another layer (compare every layer: plm-sae check-sae --layers all, or "Compare layers before indexing" in the app)' : ''}`
    )
  }
  return warnings
}

/** The report as a table and its warnings, for the CLI. */
export function formatFitReport(r: SaeFitReport): string {
  const pct = (v: number): string => `${(100 * v).toFixed(1)}%`
  const lines = [
    `SAE ${r.sae.name} (${r.sae.format}, ${r.sae.dIn} → ${r.sae.dSae}) on ${r.model}: ${r.proteins} proteins, ${r.residues} residues, ${r.maskedPositions} masked`,
    'layer   FVU     cosine  L0       dead    dense   loss clean  spliced  zero-abl  mean-abl  recovered(zero)  recovered(mean)'
  ]
  for (const f of r.layers) {
    const mark = f.layer === r.declaredLayer ? '*' : f.layer === r.bestLayer ? '+' : ' '
    lines.push(
      `${String(f.layer).padStart(4)}${mark}  ${f.fvu.toFixed(4).padEnd(7)} ${f.cosine.toFixed(4).padEnd(7)} ${f.l0.toFixed(1).padEnd(8)} ${pct(f.deadFraction).padEnd(7)} ${pct(f.denseFraction).padEnd(7)} ` +
        `${f.loss.clean.toFixed(4).padEnd(11)} ${f.loss.spliced.toFixed(4).padEnd(8)} ${f.loss.zeroAblation.toFixed(4).padEnd(9)} ${f.loss.meanAblation.toFixed(4).padEnd(9)} ${f.recoveredVsZero.toFixed(1).padEnd(16)} ${f.recoveredVsMean.toFixed(1)}`
    )
  }
  lines.push(
    r.declaredLayer !== undefined
      ? `* the layer the SAE's files name (${r.declaredLayer}); + the best fit (${r.bestLayer})`
      : `the files name no layer: proposed layer ${r.proposedLayer} (the best fit)`
  )
  for (const w of r.warnings) lines.push(`warning: ${w}`)
  return lines.join('\n')
}

/** The fit of the layer a run reads, as stored with the run (its settings JSON, key `fit`). */
export interface RunFit extends SaeLayerFit {
  proteins: number
  warnings: string[]
}

export function runFitOf(report: SaeFitReport, layer: number): RunFit {
  const f = report.layers.find(l => l.layer === layer)
  if (f === undefined) throw new Error(`internal: the fit report has no layer ${layer}`)
  const { layer: _layer, ...figures } = saeLayerFit(f)
  return { layer, proteins: report.proteins, ...figures, warnings: report.warnings }
}

/**
 * The first `limit` proteins of a FASTA / UniProt file that fit the model's window (bad records skipped),
 * stopping before `maxResidues` residues in all (at least one protein), as tokens: the fit check's sample.
 */
export async function sampleProteins(
  path: string,
  window: number,
  limit: number,
  maxResidues = FIT_SAMPLE_RESIDUES,
  signal?: AbortSignal
): Promise<Int32Array[]> {
  const proteins: Int32Array[] = []
  let residues = 0
  for await (const p of readProteins(path, { policy: 'skip' })) {
    if (signal?.aborted) throw new Error('cancelled')
    if (p.sequence.length > window) continue
    if (proteins.length > 0 && residues + p.sequence.length > maxResidues) break
    residues += p.sequence.length
    try {
      proteins.push(tokenize(p.sequence, p.accession))
    } catch {
      continue
    }
    if (proteins.length >= limit) break
  }
  return proteins
}

/**
 * The fit of `layer` on the file's sample (`sampleProteins`): the check run before indexing. Undefined when the
 * file has no usable protein (or the signal aborted).
 */
export async function checkFitOnFile(
  model: Esm2Model,
  sae: SaeWeights,
  layer: number,
  path: string,
  limit: number,
  signal?: AbortSignal,
  maxResidues = FIT_SAMPLE_RESIDUES
): Promise<RunFit | undefined> {
  let proteins: Int32Array[]
  try {
    proteins = await sampleProteins(path, model.window, limit, maxResidues, signal)
  } catch (e) {
    if (signal?.aborted) return undefined
    throw e
  }
  if (proteins.length === 0) return undefined
  return runFitOf(await checkSaeFit(model, sae, proteins, { layers: [layer] }), layer)
}
