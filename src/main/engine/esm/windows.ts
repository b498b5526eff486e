/**
 * Sequences longer than the model's window are processed in overlapping windows and stitched.
 *
 * The rule (documented in the README): with W residues per window and a sequence of L > W residues,
 * n = ceil((L − W) / (W / 2)) + 1 windows are placed with evenly spaced starts from 0 to L − W (so
 * neighbours overlap by at least half a window). Each window is run as a sequence of its own,
 * `<cls>` + residues + `<eos>`. Residue r takes its values from the window whose centre is nearest to r
 * (ties go to the earlier window), i.e. from where it has the most context on both sides. The `<cls>` row
 * comes from the first window and the `<eos>` row from the last.
 */

export interface ResidueWindow {
  /** First residue (0-based, inclusive) of the window. */
  start: number
  /** One past the last residue of the window. */
  end: number
  /** Residues [takeFrom, takeTo) of the output come from this window. */
  takeFrom: number
  takeTo: number
}

export function planWindows(length: number, window: number): ResidueWindow[] {
  if (!Number.isInteger(window) || window < 2) throw new Error(`window must be an integer ≥ 2, got ${window}`)
  if (length <= window) return [{ start: 0, end: length, takeFrom: 0, takeTo: length }]
  const n = Math.ceil((length - window) / Math.floor(window / 2)) + 1
  const starts = Array.from({ length: n }, (_, i) => Math.round((i * (length - window)) / (n - 1)))
  const centres = starts.map(s => s + window / 2)
  return starts.map((start, i) => {
    // boundary between window i-1 and i: residues r with r - centre[i-1] <= centre[i] - r stay in i-1.
    const takeFrom = i === 0 ? 0 : Math.floor((centres[i - 1] + centres[i]) / 2) + 1
    const takeTo = i === n - 1 ? length : Math.floor((centres[i] + centres[i + 1]) / 2) + 1
    return { start, end: start + window, takeFrom, takeTo }
  })
}

/**
 * Joins per-window rows ([window tokens, width] each, `<cls>` + residues + `<eos>`) into the rows of the whole
 * sequence ([L + 2, width]) by the rule above: residues from their nearest-centre window, `<cls>` from the
 * first window, `<eos>` from the last. A single window is returned as it is.
 */
export function stitchWindowRows(
  windows: readonly ResidueWindow[],
  pieces: readonly Float32Array[],
  width: number
): Float32Array {
  if (pieces.length === 1) return pieces[0]
  const L = windows[windows.length - 1].end
  const out = new Float32Array((L + 2) * width)
  out.set(pieces[0].subarray(0, width), 0)
  windows.forEach((w, k) => {
    // residue r sits at row r + 1 of the sequence and row r − w.start + 1 of its window
    out.set(
      pieces[k].subarray((w.takeFrom - w.start + 1) * width, (w.takeTo - w.start + 1) * width),
      (w.takeFrom + 1) * width
    )
  })
  const last = pieces[pieces.length - 1]
  out.set(last.subarray(last.length - width), (L + 1) * width)
  return out
}
