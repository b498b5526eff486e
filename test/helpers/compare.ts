/** Numeric comparison used by the tests: the largest absolute difference relative to the reference's scale. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`)
  let maxDiff = 0
  let scale = 0
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i])
    if (!(d <= maxDiff)) maxDiff = Number.isNaN(d) ? Infinity : Math.max(maxDiff, d)
    scale = Math.max(scale, Math.abs(expected[i]))
  }
  return maxDiff / Math.max(scale, 1e-30)
}

/** Random residue strings over the 20 standard amino acids, from a seeded generator. */
export function randomProtein(length: number, seed: number): string {
  const aa = 'ACDEFGHIKLMNPQRSTVWY'
  let s = seed >>> 0
  let out = ''
  for (let i = 0; i < length; i++) {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    out += aa[((t ^ (t >>> 14)) >>> 0) % 20]
  }
  return out
}
