/**
 * Data-to-colour mapping for activations: a sequential scale from near-white to deep red, linear in RGB
 * between `LOW_RGB` (a value just above zero) and `HIGH_RGB` (the scale's max and above). Residues whose
 * value is zero (the feature does not fire) are light grey; residues without a value (not in the sequence,
 * e.g. inserted in the structure) are a darker grey, so both differ from any firing colour.
 */

export type Rgb = readonly [number, number, number]

export const LOW_RGB: Rgb = [255, 245, 240] // ColorBrewer Reds, lightest
export const HIGH_RGB: Rgb = [165, 15, 21] // ColorBrewer Reds, darkest
export const ZERO_RGB: Rgb = [217, 217, 217]
export const UNMAPPED_RGB: Rgb = [150, 150, 150]

export interface ActivationScale {
  max: number
  /** Colour of a value (null/undefined/NaN → unmapped grey; 0 or below → zero grey). */
  rgb(value: number | null | undefined): Rgb
  hex(value: number | null | undefined): string
  /** Position 0..1 on the scale (clamped), NaN for unmapped. */
  position(value: number | null | undefined): number
  ticks: number[]
}

export function activationScale(max: number, tickCount = 5): ActivationScale {
  const safeMax = Number.isFinite(max) && max > 0 ? max : 1
  const position = (value: number | null | undefined): number => {
    if (value === null || value === undefined || Number.isNaN(value)) return Number.NaN
    return Math.min(1, Math.max(0, value / safeMax))
  }
  const rgb = (value: number | null | undefined): Rgb => {
    if (value === null || value === undefined || Number.isNaN(value)) return UNMAPPED_RGB
    if (value <= 0) return ZERO_RGB
    return lerpRgb(LOW_RGB, HIGH_RGB, position(value))
  }
  return {
    max: safeMax,
    rgb,
    hex: value => rgbToHex(rgb(value)),
    position,
    ticks: niceTicks(0, safeMax, tickCount)
  }
}

export function lerpRgb(a: Rgb, b: Rgb, t: number): Rgb {
  return [
    Math.round(a[0] + (b[0] - a[0]) * t),
    Math.round(a[1] + (b[1] - a[1]) * t),
    Math.round(a[2] + (b[2] - a[2]) * t)
  ]
}

export function rgbToHex([r, g, b]: Rgb): string {
  return '#' + [r, g, b].map(v => v.toString(16).padStart(2, '0')).join('')
}

/** 0xRRGGBB integer (Mol*'s Color type is this number). */
export function rgbToInt([r, g, b]: Rgb): number {
  return (r << 16) | (g << 8) | b
}

export function hexToRgb(hex: string): Rgb {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex.trim())
  if (!m) throw new Error(`not a #rrggbb colour: ${hex}`)
  return [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)]
}

/**
 * Round tick values from `lo` to `hi`: a step of 1, 2 or 5 × 10^k chosen so there are about `count` intervals;
 * ticks are the multiples of the step inside [lo, hi].
 */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo) || count < 1) return [lo]
  const raw = (hi - lo) / count
  const power = Math.pow(10, Math.floor(Math.log10(raw)))
  const fraction = raw / power
  const step = (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power
  const first = Math.ceil(lo / step - 1e-9)
  const last = Math.floor(hi / step + 1e-9)
  const ticks: number[] = []
  for (let k = first; k <= last; k++) ticks.push(Number((k * step).toPrecision(12)))
  return ticks
}
