/**
 * Data-to-colour mapping for activations, shared by the tracks, the heat map, the highlighted sequences and the
 * 3D view: a sequential scale linear in RGB from `LOW_RGB` (a value just above zero: a saturated orange, so that
 * the weakest firing residue still stands out) to `HIGH_RGB` (the scale's max and above: a deep red).
 *
 * The 3D view's neutral colours are chosen by luminance (WCAG 2 relative luminance and contrast ratio, below) so
 * that on the white background the classes read in order, lightest to darkest: background, other chains and
 * residues without a value (`NO_DATA_RGB`), the chosen chain's residues where the feature does not fire
 * (`ZERO_RGB`), then the firing residues. The contrast between neighbours is tested (test/renderer-colour.test.ts).
 */

export type Rgb = readonly [number, number, number]

export const LOW_RGB: Rgb = [232, 89, 12] // orange (Open Color orange 8)
export const HIGH_RGB: Rgb = [103, 0, 13] // ColorBrewer Reds, darkest
/** The chosen chain's residues where the feature does not fire (value 0). */
export const ZERO_RGB: Rgb = [174, 179, 186]
/** Residues without a value: other chains, and residues of the chosen chain not in the sequence. */
export const NO_DATA_RGB: Rgb = [227, 230, 234]
/** Ligands and other non-polymer groups while a structure is coloured by activation (a quiet slate). */
export const LIGAND_RGB: Rgb = [135, 150, 168]
/** The 3D view's hover highlight: a blue, apart from every activation colour. */
export const HIGHLIGHT_RGB: Rgb = [31, 111, 235]
/** The 3D view's background. */
export const BACKGROUND_RGB: Rgb = [255, 255, 255]

export interface ActivationScale {
  max: number
  /** Colour of a value (null/undefined/NaN → no-data grey; 0 or below → zero grey). */
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
    if (value === null || value === undefined || Number.isNaN(value)) return NO_DATA_RGB
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

/** WCAG 2 relative luminance of an sRGB colour (0 black … 1 white). */
export function relativeLuminance([r, g, b]: Rgb): number {
  const linear = (c: number): number => {
    const s = c / 255
    return s <= 0.04045 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4)
  }
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
}

/** WCAG 2 contrast ratio of two colours (1 … 21), the lighter one's luminance + 0.05 over the darker one's. */
export function contrastRatio(a: Rgb, b: Rgb): number {
  const la = relativeLuminance(a)
  const lb = relativeLuminance(b)
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05)
}

/** Dark or white text, whichever contrasts more with the background colour. */
export function readableTextOn(background: Rgb): string {
  const dark: Rgb = [29, 35, 48]
  return contrastRatio(background, dark) >= contrastRatio(background, [255, 255, 255]) ? '#1d2330' : '#ffffff'
}
