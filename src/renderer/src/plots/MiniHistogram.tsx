/** A tiny bar histogram for table rows (counts of nonzero activations over [0, max]); no axes. */
export function MiniHistogram({
  counts,
  width = 80,
  height = 18
}: {
  counts: number[]
  width?: number
  height?: number
}) {
  const n = counts.length
  if (n === 0) return <svg width={width} height={height} aria-hidden="true" />
  const top = Math.max(...counts)
  const bw = width / n
  let d = ''
  if (top > 0) {
    counts.forEach((c, i) => {
      if (c <= 0) return
      // sqrt scale so small bins stay visible next to the dominant low bins
      const h = Math.max(1, Math.sqrt(c / top) * (height - 1))
      d += `M${(i * bw + 0.5).toFixed(1)} ${height}v${-h.toFixed(1)}h${Math.max(0.5, bw - 1).toFixed(1)}v${h.toFixed(1)}z`
    })
  }
  return (
    <svg width={width} height={height} className="mini-hist" aria-hidden="true">
      <line x1={0} x2={width} y1={height - 0.5} y2={height - 0.5} stroke="#d9dee4" />
      <path d={d} fill="#c0392b" fillOpacity={0.75} />
    </svg>
  )
}
