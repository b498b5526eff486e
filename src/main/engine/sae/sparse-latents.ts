/**
 * SAE latents of one sequence in compressed sparse rows (CSR): row r holds the features that fire (value > 0)
 * at residue r. Rows are residues only: the `<cls>` and `<eos>` rows of the model are not included, so row r
 * is residue r (0-based) of the sequence.
 */
export interface SparseLatents {
  /** The sequence id. */
  id: string
  /** Number of residues (rows). */
  rows: number
  /** Width of a dense row (the SAE's dSae). */
  width: number
  /** Row r's entries are [indptr[r], indptr[r + 1]); length rows + 1. */
  indptr: Uint32Array
  /** Feature ids, increasing within a row. */
  features: Uint32Array
  values: Float32Array
}

/** Keeps the entries of `dense` ([rows, width], row-major, starting at row `rowOffset`) that are > threshold. */
export function sparsify(
  id: string,
  dense: Float32Array,
  rows: number,
  width: number,
  rowOffset = 0,
  threshold = 0
): SparseLatents {
  let count = 0
  const start = rowOffset * width
  const end = start + rows * width
  for (let i = start; i < end; i++) if (dense[i] > threshold) count++
  const indptr = new Uint32Array(rows + 1)
  const features = new Uint32Array(count)
  const values = new Float32Array(count)
  let k = 0
  for (let r = 0; r < rows; r++) {
    const base = start + r * width
    for (let j = 0; j < width; j++) {
      const v = dense[base + j]
      if (v > threshold) {
        features[k] = j
        values[k] = v
        k++
      }
    }
    indptr[r + 1] = k
  }
  return { id, rows, width, indptr, features, values }
}

/** The dense [rows, width] matrix of a sparse one. */
export function densify(s: SparseLatents): Float32Array {
  const out = new Float32Array(s.rows * s.width)
  for (let r = 0; r < s.rows; r++) {
    for (let k = s.indptr[r]; k < s.indptr[r + 1]; k++) out[r * s.width + s.features[k]] = s.values[k]
  }
  return out
}

/** One feature's per-residue activation track (zeros where it does not fire). */
export function featureTrack(s: SparseLatents, feature: number): Float32Array {
  const out = new Float32Array(s.rows)
  for (let r = 0; r < s.rows; r++) {
    for (let k = s.indptr[r]; k < s.indptr[r + 1]; k++) {
      if (s.features[k] === feature) out[r] = s.values[k]
      else if (s.features[k] > feature) break
    }
  }
  return out
}
