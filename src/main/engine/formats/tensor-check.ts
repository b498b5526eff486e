/**
 * One check that weights are finite numbers, for every importer (ESM2 checkpoints here; SAE loaders call the
 * same function). NaN or infinite weights make a model whose every output is NaN: the SAE then fires on
 * nothing and a run would look complete with every feature dead. Such a file is refused when it is imported.
 */
export class NonFiniteWeightsError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'NonFiniteWeightsError'
  }
}

/** Counts of the values of `data` that are NaN or ±Infinity, and the first such index (-1: none). */
export function nonFiniteCounts(data: ArrayLike<number>): { nan: number; infinite: number; first: number } {
  let nan = 0
  let infinite = 0
  let first = -1
  for (let i = 0; i < data.length; i++) {
    const v = data[i]
    if (v - v !== 0) {
      // NaN - NaN and ±Inf - ±Inf are NaN; every finite v gives 0.
      if (Number.isNaN(v)) nan++
      else infinite++
      if (first < 0) first = i
    }
  }
  return { nan, infinite, first }
}

/**
 * Throws a `NonFiniteWeightsError` naming the file, the tensor and what was found when `data` holds NaN or
 * infinite values. `source` is the file (or folder) the weights came from; `tensor` the weight's name.
 */
export function assertFiniteWeights(data: ArrayLike<number>, tensor: string, source: string): void {
  const c = nonFiniteCounts(data)
  if (c.first < 0) return
  const found = [c.nan > 0 ? `${c.nan} NaN` : '', c.infinite > 0 ? `${c.infinite} infinite` : '']
    .filter(Boolean)
    .join(' and ')
  throw new NonFiniteWeightsError(
    `${source}: weight "${tensor}" holds ${found} value${c.nan + c.infinite === 1 ? '' : 's'} (of ${data.length}; the first at index ${c.first}): ` +
      'the file is damaged (or was saved from a diverged training run) and would give NaN results. Download it again, or use another checkpoint.'
  )
}
