import * as d3 from 'd3'
import { useMemo, useRef } from 'react'
import type { Histogram } from '@shared/store-types'
import { ExportButtons } from '../components/ExportButtons'
import { exportSvgElement } from '../components/export-file'
import { tickFormat } from './plot-utils'

export interface ActivationHistogramProps {
  histogram: Histogram
  width: number
  height?: number
  /** Log-scaled counts (activation distributions are heavy-tailed). */
  logCounts?: boolean
  /** Marks (e.g. quantiles) drawn as dashed lines. */
  marks?: { value: number; label: string }[]
  exportName?: string
  title?: string
}

const M = { top: 10, right: 14, bottom: 34, left: 48 }

export function ActivationHistogram({
  histogram,
  width,
  height = 200,
  logCounts = true,
  marks = [],
  exportName = 'histogram',
  title = 'Activation histogram'
}: ActivationHistogramProps) {
  const svgRef = useRef<SVGSVGElement>(null)
  const { edges, counts } = histogram
  const iw = Math.max(10, width - M.left - M.right)
  const ih = height - M.top - M.bottom
  const { x, y, bars, yTicks } = useMemo(() => {
    const lo = edges.length ? edges[0] : 0
    const hi = edges.length ? edges[edges.length - 1] : 1
    const x = d3
      .scaleLinear()
      .domain([lo, hi > lo ? hi : lo + 1])
      .range([0, iw])
    const top = Math.max(1, ...counts)
    const y = logCounts
      ? d3.scaleSymlog().constant(1).domain([0, top]).range([ih, 0])
      : d3.scaleLinear().domain([0, top]).nice().range([ih, 0])
    const bars = counts.map((c, i) => ({
      x0: x(edges[i]),
      x1: x(edges[i + 1]),
      y: y(c),
      c,
      lo: edges[i],
      hi: edges[i + 1]
    }))
    const yTicks = logCounts ? [0, ...[1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7].filter(t => t <= top)] : y.ticks(4)
    return { x, y, bars, yTicks }
  }, [edges, counts, iw, ih, logCounts])
  return (
    <div className="plot" data-testid="activation-histogram">
      <div className="wb-panel-head">
        <h3>{title}</h3>
        <span className="spacer" />
        <ExportButtons
          what={title.toLowerCase()}
          onExport={f => svgRef.current && exportSvgElement(svgRef.current, exportName, f)}
        />
      </div>
      <svg ref={svgRef} width={width} height={height} role="img" aria-label={title}>
        <g transform={`translate(${M.left},${M.top})`}>
          <g className="grid">
            {yTicks.map(t => (
              <line key={t} x1={0} x2={iw} y1={y(t)} y2={y(t)} />
            ))}
          </g>
          {bars.map((b, i) =>
            b.c > 0 ? (
              <rect
                key={i}
                x={b.x0 + 0.5}
                width={Math.max(0.5, b.x1 - b.x0 - 1)}
                y={b.y}
                height={ih - b.y}
                fill="#c0392b"
                fillOpacity={0.8}
              >
                <title>{`${tickFormat(b.lo)} – ${tickFormat(b.hi)}: ${b.c.toLocaleString()} residues`}</title>
              </rect>
            ) : null
          )}
          {marks.map(m => (
            <g key={m.label} transform={`translate(${x(m.value)},0)`}>
              <line y1={0} y2={ih} stroke="#334e68" strokeDasharray="3 3" />
              <text y={-2} x={3} fontSize={9}>
                {m.label}
              </text>
            </g>
          ))}
          <g className="axis" transform={`translate(0,${ih})`}>
            <line x1={0} x2={iw} stroke="#9aa5b1" />
            {x.ticks(Math.max(2, Math.floor(iw / 70))).map(t => (
              <g key={t} transform={`translate(${x(t)},0)`}>
                <line y2={4} stroke="#9aa5b1" />
                <text y={15} textAnchor="middle" fontSize={10}>
                  {tickFormat(t)}
                </text>
              </g>
            ))}
            <text x={iw / 2} y={29} textAnchor="middle" fontSize={10}>
              activation
            </text>
          </g>
          <g className="axis">
            <line y1={0} y2={ih} stroke="#9aa5b1" />
            {yTicks.map(t => (
              <text key={t} x={-6} y={y(t)} dy="0.32em" textAnchor="end" fontSize={10}>
                {tickFormat(t)}
              </text>
            ))}
            <text transform={`translate(${-38},${ih / 2}) rotate(-90)`} textAnchor="middle" fontSize={10}>
              {logCounts ? 'residues (log)' : 'residues'}
            </text>
          </g>
        </g>
      </svg>
    </div>
  )
}
