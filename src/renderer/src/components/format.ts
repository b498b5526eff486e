/** Number formatting for tables, tracks and tooltips. */
export function formatNumber(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return '–'
  if (v === 0) return '0'
  const a = Math.abs(v)
  if (a >= 1000) return v.toFixed(0)
  if (a < 0.001) return v.toExponential(1)
  return Number(v.toPrecision(digits)).toString()
}

export function formatPercent(v: number): string {
  if (!Number.isFinite(v)) return '–'
  if (v === 0) return '0%'
  if (v < 0.0001) return '<0.01%'
  return `${(v * 100).toFixed(v < 0.01 ? 2 : 1)}%`
}
