/**
 * Global alignment (Needleman–Wunsch with Gotoh's affine gaps, BLOSUM62 scores) of a protein sequence
 * (the "query": the sequence the activations were computed on) to a structure chain (the "target": the
 * residues that have coordinates). The result maps every query residue to a chain residue or to nothing
 * (missing from the structure), and every chain residue to a query residue or to nothing (an insertion in
 * the structure, e.g. a tag or a mutation-site insertion).
 *
 * Gap cost: a gap of length k costs gapOpen + (k - 1) * gapExtend. By default end gaps are free (like
 * EMBOSS needle without -endweight), so a structure that covers only a domain aligns to that domain.
 */
import { blosumByIndex, encodeForBlosum } from './blosum62'

export interface AlignmentOptions {
  /** Cost of the first residue of a gap (positive). Default 11. */
  gapOpen?: number
  /** Cost of each further residue of a gap (positive). Default 1. */
  gapExtend?: number
  /** Penalize gaps at either end of either sequence. Default false (free end gaps). */
  penalizeEndGaps?: boolean
}

export interface SequenceAlignment {
  score: number
  /** For each query residue, the index of the aligned target residue, or -1 (missing from the structure). */
  queryToTarget: Int32Array
  /** For each target residue, the index of the aligned query residue, or -1 (inserted in the structure). */
  targetToQuery: Int32Array
  /** Aligned rows with '-' for gaps (same length). */
  alignedQuery: string
  alignedTarget: string
  /** Number of aligned pairs (columns without a gap). */
  alignedPairs: number
  /** Number of aligned pairs with the same residue. */
  matches: number
  /** matches / alignedPairs (0 when nothing aligns). */
  identity: number
  /** alignedPairs / query length: the share of the sequence that has a structure residue. */
  coverage: number
  /** Query residues (0-based) without a structure residue. */
  missing: number[]
  /** Target residues (0-based) without a sequence residue. */
  insertions: number[]
}

const NEG = -1e9
const FROM_M = 0
const FROM_X = 1
const FROM_Y = 2
const STOP = 3

/** Which of the three states (scores coming from M, X, Y) is best; a tie goes to the earlier (M, then X). */
function bestState3(fromM: number, fromX: number, fromY: number): number {
  return fromM >= fromX && fromM >= fromY ? FROM_M : fromX >= fromY ? FROM_X : FROM_Y
}

/** Align `query` to `target` (one-letter codes). Both may be empty. */
export function alignGlobal(query: string, target: string, options: AlignmentOptions = {}): SequenceAlignment {
  const open = options.gapOpen ?? 11
  const extend = options.gapExtend ?? 1
  if (!(open > 0) || !(extend > 0))
    throw new Error(`alignGlobal: gap costs must be positive (open ${open}, extend ${extend})`)
  const freeEnds = !options.penalizeEndGaps
  const n = query.length
  const m = target.length
  const q = encodeForBlosum(query)
  const t = encodeForBlosum(target)
  const w = m + 1
  // Traceback pointers per state: which state the best predecessor was in.
  const ptrM = new Uint8Array((n + 1) * w)
  const ptrX = new Uint8Array((n + 1) * w) // X: query residue against a gap (moves i)
  const ptrY = new Uint8Array((n + 1) * w) // Y: target residue against a gap (moves j)
  let prevM = new Float64Array(w)
  let prevX = new Float64Array(w)
  let prevY = new Float64Array(w)
  let curM = new Float64Array(w)
  let curX = new Float64Array(w)
  let curY = new Float64Array(w)
  const endGap = (k: number): number => (freeEnds ? 0 : -(open + (k - 1) * extend))

  // Row 0.
  prevM[0] = 0
  prevX[0] = NEG
  prevY[0] = NEG
  ptrM[0] = STOP
  for (let j = 1; j <= m; j++) {
    prevM[j] = NEG
    prevX[j] = NEG
    prevY[j] = endGap(j)
    ptrY[j] = j === 1 ? FROM_M : FROM_Y
  }
  // Best end cell (for free end gaps: any cell in the last row or column).
  let bestScore = NEG
  let bestI = 0
  let bestJ = 0
  let bestState = FROM_M
  const consider = (i: number, j: number, mm: number, xx: number, yy: number): void => {
    const s = Math.max(mm, xx, yy)
    if (s > bestScore) {
      bestScore = s
      bestI = i
      bestJ = j
      bestState = bestState3(mm, xx, yy)
    }
  }
  if (n === 0) consider(0, m, m === 0 ? 0 : NEG, NEG, m === 0 ? NEG : prevY[m])
  if (freeEnds && n > 0)
    for (let j = 0; j <= m; j++)
      if (j === m || m === 0) consider(0, j, j === 0 ? 0 : NEG, NEG, j === 0 ? NEG : prevY[j])

  for (let i = 1; i <= n; i++) {
    const row = i * w
    curM[0] = NEG
    curY[0] = NEG
    curX[0] = endGap(i)
    ptrX[row] = i === 1 ? FROM_M : FROM_X
    const qi = q[i - 1]
    for (let j = 1; j <= m; j++) {
      // M: residues i and j aligned.
      const dm = prevM[j - 1]
      const dx = prevX[j - 1]
      const dy = prevY[j - 1]
      curM[j] = Math.max(dm, dx, dy) + blosumByIndex(qi, t[j - 1])
      ptrM[row + j] = bestState3(dm, dx, dy)
      // X: query residue i against a gap (vertical move).
      const xOpenM = prevM[j] - open
      const xExt = prevX[j] - extend
      const xOpenY = prevY[j] - open
      curX[j] = Math.max(xOpenM, xExt, xOpenY)
      ptrX[row + j] = bestState3(xOpenM, xExt, xOpenY)
      // Y: target residue j against a gap (horizontal move).
      const yOpenM = curM[j - 1] - open
      const yOpenX = curX[j - 1] - open
      const yExt = curY[j - 1] - extend
      curY[j] = Math.max(yOpenM, yOpenX, yExt)
      ptrY[row + j] = bestState3(yOpenM, yOpenX, yExt)
    }
    if (freeEnds) {
      if (i === n) for (let j = 0; j <= m; j++) consider(i, j, curM[j], curX[j], curY[j])
      else consider(i, m, curM[m], curX[m], curY[m])
    } else if (i === n) {
      consider(n, m, curM[m], curX[m], curY[m])
    }
    ;[prevM, curM] = [curM, prevM]
    ;[prevX, curX] = [curX, prevX]
    ;[prevY, curY] = [curY, prevY]
  }

  // Traceback.
  const queryToTarget = new Int32Array(n).fill(-1)
  const targetToQuery = new Int32Array(m).fill(-1)
  const colsQ: string[] = []
  const colsT: string[] = []
  // Trailing free end gaps.
  for (let i = n; i > bestI; i--) {
    colsQ.push(query[i - 1])
    colsT.push('-')
  }
  for (let j = m; j > bestJ; j--) {
    colsQ.push('-')
    colsT.push(target[j - 1])
  }
  let i = bestI
  let j = bestJ
  let state = bestState
  while (i > 0 || j > 0) {
    if (i === 0) {
      colsQ.push('-')
      colsT.push(target[j - 1])
      j--
      continue
    }
    if (j === 0) {
      colsQ.push(query[i - 1])
      colsT.push('-')
      i--
      continue
    }
    const cell = i * w + j
    if (state === FROM_M) {
      const from = ptrM[cell]
      queryToTarget[i - 1] = j - 1
      targetToQuery[j - 1] = i - 1
      colsQ.push(query[i - 1])
      colsT.push(target[j - 1])
      i--
      j--
      state = from
    } else if (state === FROM_X) {
      const from = ptrX[cell]
      colsQ.push(query[i - 1])
      colsT.push('-')
      i--
      state = from
    } else {
      const from = ptrY[cell]
      colsQ.push('-')
      colsT.push(target[j - 1])
      j--
      state = from
    }
  }
  colsQ.reverse()
  colsT.reverse()
  let alignedPairs = 0
  let matches = 0
  const missing: number[] = []
  for (let k = 0; k < n; k++) {
    const tk = queryToTarget[k]
    if (tk < 0) missing.push(k)
    else {
      alignedPairs++
      if (query[k].toUpperCase() === target[tk].toUpperCase()) matches++
    }
  }
  const insertions: number[] = []
  for (let k = 0; k < m; k++) if (targetToQuery[k] < 0) insertions.push(k)
  return {
    score: n === 0 && m === 0 ? 0 : bestScore,
    queryToTarget,
    targetToQuery,
    alignedQuery: colsQ.join(''),
    alignedTarget: colsT.join(''),
    alignedPairs,
    matches,
    identity: alignedPairs === 0 ? 0 : matches / alignedPairs,
    coverage: n === 0 ? 0 : alignedPairs / n,
    missing,
    insertions
  }
}

/** Score an explicit alignment (two rows with '-') under the same scoring as alignGlobal. */
export function scoreAlignment(rowQ: string, rowT: string, options: AlignmentOptions = {}): number {
  if (rowQ.length !== rowT.length) throw new Error('scoreAlignment: rows differ in length')
  const open = options.gapOpen ?? 11
  const extend = options.gapExtend ?? 1
  const freeEnds = !options.penalizeEndGaps
  const len = rowQ.length
  // Columns at the ends made of gaps in one row are free when end gaps are free.
  const isEndGapColumn = (row: string, k: number): boolean => {
    if (row[k] !== '-') return false
    let before = true
    for (let a = 0; a < k; a++)
      if (row[a] !== '-') {
        before = false
        break
      }
    let after = true
    for (let a = k + 1; a < len; a++)
      if (row[a] !== '-') {
        after = false
        break
      }
    return before || after
  }
  let score = 0
  let prev: 'M' | 'Q' | 'T' = 'M'
  for (let k = 0; k < len; k++) {
    const a = rowQ[k]
    const b = rowT[k]
    if (a === '-' && b === '-') throw new Error('scoreAlignment: a column of two gaps')
    if (a !== '-' && b !== '-') {
      score += blosumByIndex(encodeForBlosum(a)[0], encodeForBlosum(b)[0])
      prev = 'M'
      continue
    }
    const kind = a === '-' ? 'T' : 'Q' // 'Q': query residue vs gap
    const gapRow = a === '-' ? rowQ : rowT
    if (!(freeEnds && isEndGapColumn(gapRow, k))) score -= prev === kind ? extend : open
    prev = kind
  }
  return score
}
