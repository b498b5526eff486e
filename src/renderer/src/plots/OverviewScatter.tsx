import * as d3 from 'd3'
import { useEffect, useMemo, useRef, useState } from 'react'
import type { FeatureOverview } from '@shared/store-types'
import { ExportButtons } from '../components/ExportButtons'
import { downloadDataUrl, downloadText, svgTextToPngDataUrl } from '../components/export-file'
import { tickFormat } from './plot-utils'

export interface OverviewScatterProps {
  overview: FeatureOverview
  width: number
  height?: number
  /** Feature to ring (e.g. the table's active row). */
  activeId?: number | null
  /** Called with the features inside the brushed rectangle, or null when the brush is cleared. */
  onBrush?: (ids: number[] | null) => void
  onPick?: (id: number) => void
  /** The hover tooltip's text for a feature (id, label, best concept). */
  describe?: (id: number) => string
}

const M = { top: 12, right: 16, bottom: 38, left: 52 }
const MIN_FREQ = 1e-5

/**
 * Frequency (fraction of residues, log scale) against max activation, one dot per feature, coloured by the
 * F1 of the best concept. Dots are drawn on a canvas (10,000+ points stay fast); axes and the brush are SVG.
 */
export function OverviewScatter({
  overview,
  width,
  height = 260,
  activeId,
  onBrush,
  onPick,
  describe
}: OverviewScatterProps) {
  const canvasRef = useRef<HTMLCanvasElement>(null)
  const brushRef = useRef<SVGGElement>(null)
  const iw = Math.max(10, width - M.left - M.right)
  const ih = height - M.top - M.bottom
  const n = overview.ids.length
  const [hover, setHover] = useState<{ i: number; x: number; y: number } | null>(null)
  // Dead features (never fired) are not dots: on a log axis they would sit at the lowest frequency as if they fired.
  const alive = useMemo(() => {
    const out: number[] = []
    for (let i = 0; i < n; i++) if (overview.freqResidue[i] > 0 && overview.max[i] > 0) out.push(i)
    return out
  }, [overview, n])
  const dead = n - alive.length

  const { x, y, colour, px, py } = useMemo(() => {
    let maxFreq = MIN_FREQ * 10
    let maxAct = 1e-6
    for (let i = 0; i < n; i++) {
      if (overview.freqResidue[i] > maxFreq) maxFreq = overview.freqResidue[i]
      if (overview.max[i] > maxAct) maxAct = overview.max[i]
    }
    const x = d3
      .scaleLog()
      .domain([MIN_FREQ, Math.min(1, maxFreq * 1.5)])
      .range([0, iw])
      .clamp(true)
    const y = d3
      .scaleLinear()
      .domain([0, maxAct * 1.05])
      .nice()
      .range([ih, 0])
    let maxF1 = 0.3
    for (let i = 0; i < n; i++) if (overview.bestF1[i] > maxF1) maxF1 = overview.bestF1[i]
    const colour = d3.scaleSequential(d3.interpolateRgb('#9fb3c8', '#d9480f')).domain([0, maxF1]).clamp(true)
    const px = new Float32Array(n)
    const py = new Float32Array(n)
    for (let i = 0; i < n; i++) {
      px[i] = x(Math.max(MIN_FREQ, overview.freqResidue[i]))
      py[i] = y(overview.max[i])
    }
    return { x, y, colour, px, py }
  }, [overview, n, iw, ih])

  useEffect(() => {
    const canvas = canvasRef.current
    if (!canvas) return
    const dpr = window.devicePixelRatio || 1
    canvas.width = Math.round(width * dpr)
    canvas.height = Math.round(height * dpr)
    canvas.style.width = `${width}px`
    canvas.style.height = `${height}px`
    const ctx = canvas.getContext('2d')
    if (!ctx) return
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0)
    ctx.clearRect(0, 0, width, height)
    ctx.save()
    ctx.translate(M.left, M.top)
    const r = n > 5000 ? 1.6 : 2.4
    for (const i of alive) {
      const f1 = overview.bestF1[i]
      ctx.fillStyle = f1 > 0 ? colour(f1) : '#7b8794'
      ctx.globalAlpha = f1 > 0 ? 0.9 : 0.45
      ctx.fillRect(px[i] - r / 2, py[i] - r / 2, r, r)
    }
    ctx.globalAlpha = 1
    if (activeId !== null && activeId !== undefined) {
      const i = overview.ids.indexOf(activeId)
      if (i >= 0) {
        ctx.strokeStyle = '#1d4ed8'
        ctx.lineWidth = 2
        ctx.beginPath()
        ctx.arc(px[i], py[i], 6, 0, Math.PI * 2)
        ctx.stroke()
      }
    }
    ctx.restore()
  }, [overview, n, alive, px, py, colour, width, height, activeId])

  useEffect(() => {
    const g = brushRef.current
    if (!g) return
    const brush = d3
      .brush()
      .extent([
        [0, 0],
        [iw, ih]
      ])
      .on('end', (event: d3.D3BrushEvent<unknown>) => {
        const sel = event.selection as [[number, number], [number, number]] | null
        if (!sel) {
          onBrush?.(null)
          if (event.sourceEvent && onPick) {
            // a click without a drag: pick the nearest dot
            const [mx, my] = d3.pointer(event.sourceEvent, g)
            const best = nearest(mx, my)
            if (best >= 0) onPick(overview.ids[best])
          }
          return
        }
        const [[x0, y0], [x1, y1]] = sel
        const ids: number[] = []
        for (const i of alive) if (px[i] >= x0 && px[i] <= x1 && py[i] >= y0 && py[i] <= y1) ids.push(overview.ids[i])
        onBrush?.(ids)
      })
    const nearest = (mx: number, my: number): number => {
      let best = -1
      let bestD = 64
      for (const i of alive) {
        const d = (px[i] - mx) ** 2 + (py[i] - my) ** 2
        if (d < bestD) {
          bestD = d
          best = i
        }
      }
      return best
    }
    const sel = d3.select(g)
    sel.call(brush)
    // Hover: the nearest dot's tooltip (the brush overlay gets the events; they bubble to this group).
    sel.on('mousemove.tip', (event: MouseEvent) => {
      const [mx, my] = d3.pointer(event, g)
      const i = nearest(mx, my)
      setHover(i >= 0 ? { i, x: px[i] + M.left, y: py[i] + M.top } : null)
    })
    sel.on('mouseleave.tip', () => setHover(null))
    return () => {
      sel.on('.brush', null)
      sel.on('.tip', null)
      sel.selectAll('*').remove()
    }
  }, [iw, ih, alive, px, py, overview, onBrush, onPick])

  const svgText = (): string => {
    const parts: string[] = []
    parts.push(
      `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="Helvetica, Arial, sans-serif" font-size="10">`
    )
    parts.push(`<rect width="100%" height="100%" fill="#fff"/><g transform="translate(${M.left},${M.top})">`)
    for (const i of alive) {
      const f1 = overview.bestF1[i]
      parts.push(
        `<circle cx="${px[i].toFixed(1)}" cy="${py[i].toFixed(1)}" r="1.3" fill="${f1 > 0 ? colour(f1) : '#7b8794'}" fill-opacity="${f1 > 0 ? 0.9 : 0.45}"/>`
      )
    }
    parts.push(
      `<line x1="0" x2="${iw}" y1="${ih}" y2="${ih}" stroke="#9aa5b1"/><line x1="0" x2="0" y1="0" y2="${ih}" stroke="#9aa5b1"/>`
    )
    for (const t of xTicks)
      parts.push(`<text x="${x(t)}" y="${ih + 15}" text-anchor="middle" fill="#52606d">${tickFormat(t)}</text>`)
    for (const t of y.ticks(5))
      parts.push(`<text x="-6" y="${y(t) + 3}" text-anchor="end" fill="#52606d">${tickFormat(t)}</text>`)
    parts.push(
      `<text x="${iw / 2}" y="${ih + 32}" text-anchor="middle" fill="#52606d">fraction of residues firing (log)</text>`
    )
    parts.push(
      `<text transform="translate(-40,${ih / 2}) rotate(-90)" text-anchor="middle" fill="#52606d">max activation</text></g></svg>`
    )
    return parts.join('')
  }
  const xTicks = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1].filter(t => t >= x.domain()[0] && t <= x.domain()[1] * 1.0001)

  return (
    <div className="plot" data-testid="overview-scatter">
      <div className="wb-panel-head">
        <h3>Overview</h3>
        <span className="muted" style={{ fontSize: 11 }}>
          {alive.length.toLocaleString()} features · {dead > 0 ? `${dead.toLocaleString()} dead not plotted · ` : ''}
          drag to select, click a dot to open
        </span>
        <span className="muted" style={{ fontSize: 11, display: 'inline-flex', alignItems: 'center', gap: 4 }}>
          best concept F1 0
          <span
            style={{
              display: 'inline-block',
              width: 60,
              height: 8,
              borderRadius: 2,
              background: `linear-gradient(to right, ${colour(0)}, ${colour(colour.domain()[1])})`
            }}
          />
          {colour.domain()[1].toFixed(2)}
        </span>
        <span className="spacer" />
        <ExportButtons
          what="overview plot"
          onExport={async f => {
            const text = svgText()
            if (f === 'svg') downloadText('feature-overview.svg', text, 'image/svg+xml')
            else downloadDataUrl('feature-overview.png', await svgTextToPngDataUrl(text, width, height))
          }}
        />
      </div>
      <div className="plot-stack" style={{ width, height }}>
        <canvas ref={canvasRef} data-testid="overview-canvas" data-points={alive.length} data-dead={dead} />
        <svg width={width} height={height}>
          <g transform={`translate(${M.left},${M.top})`}>
            <g className="grid">
              {y.ticks(5).map(t => (
                <line key={`y${t}`} x1={0} x2={iw} y1={y(t)} y2={y(t)} />
              ))}
              {xTicks.map(t => (
                <line key={`x${t}`} y1={0} y2={ih} x1={x(t)} x2={x(t)} />
              ))}
            </g>
            <g className="axis" transform={`translate(0,${ih})`}>
              <line x1={0} x2={iw} stroke="#9aa5b1" />
              {xTicks.map(t => (
                <text key={t} x={x(t)} y={15} textAnchor="middle" fontSize={10}>
                  {tickFormat(t)}
                </text>
              ))}
              <text x={iw / 2} y={32} textAnchor="middle" fontSize={10}>
                fraction of residues firing (log)
              </text>
            </g>
            <g className="axis">
              <line y1={0} y2={ih} stroke="#9aa5b1" />
              {y.ticks(5).map(t => (
                <text key={t} x={-6} y={y(t)} dy="0.32em" textAnchor="end" fontSize={10}>
                  {tickFormat(t)}
                </text>
              ))}
              <text transform={`translate(-40,${ih / 2}) rotate(-90)`} textAnchor="middle" fontSize={10}>
                max activation
              </text>
            </g>
            <g ref={brushRef} className="brush" data-testid="overview-brush" />
          </g>
        </svg>
        {hover && (
          <div
            className="plot-tooltip"
            data-testid="overview-tooltip"
            data-feature={overview.ids[hover.i]}
            style={{
              position: 'absolute',
              left: Math.min(hover.x + 10, width - 220),
              top: Math.max(0, hover.y - 34),
              pointerEvents: 'none'
            }}
          >
            {describe ? describe(overview.ids[hover.i]) : `#${overview.ids[hover.i]}`}
          </div>
        )}
      </div>
    </div>
  )
}
