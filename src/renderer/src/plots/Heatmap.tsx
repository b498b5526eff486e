import { useRef } from 'react'
import type { ResidueRange } from '@shared/store-types'
import { ExportButtons } from '../components/ExportButtons'
import { exportSvgElement } from '../components/export-file'
import { activationScale } from '../lib/colour-scale'
import { ResidueSvg } from './ResidueSvg'

export interface HeatmapRow {
  feature: number
  label: string
  /** Per residue over the whole protein. */
  activations: number[]
  /** Colour max of the row (the feature's global max, so a row reads like the structure colouring). */
  max: number
}

export interface ResidueHeatmapProps {
  rows: HeatmapRow[]
  length: number
  width: number
  rowHeight?: number
  hovered?: number | null
  onHover?: (residue: number | null) => void
  range?: ResidueRange | null
  activeFeature?: number | null
  onPickFeature?: (feature: number) => void
  exportName?: string
}

const LEFT = 92
const RIGHT = 10

/** Per-residue heat map of the top features of a protein: one row per feature, one column per residue. */
export function ResidueHeatmap({
  rows,
  length,
  width,
  rowHeight = 14,
  hovered = null,
  onHover,
  range = null,
  activeFeature = null,
  onPickFeature,
  exportName = 'heatmap'
}: ResidueHeatmapProps) {
  const svgRef = useRef<SVGSVGElement>(null)
  const iw = Math.max(10, width - LEFT - RIGHT)
  const step = iw / Math.max(1, length)
  const top = 4
  const height = top + rows.length * rowHeight + 24
  return (
    <div className="plot" data-testid="residue-heatmap" data-rows={rows.length}>
      <div className="wb-panel-head">
        <h3>Top features per residue</h3>
        <span className="muted" style={{ fontSize: 11 }}>
          each row scaled to the feature’s max
        </span>
        <span className="spacer" />
        <ExportButtons
          what="heat map"
          onExport={f => svgRef.current && exportSvgElement(svgRef.current, exportName, f)}
        />
      </div>
      <ResidueSvg
        svgRef={svgRef}
        width={width}
        height={height}
        axis={{ left: LEFT, first: 1, last: length, step }}
        onHover={onHover}
      >
        {rows.map((row, k) => {
          const scale = activationScale(row.max)
          const y = top + k * rowHeight
          return (
            <g
              key={row.feature}
              style={{ cursor: onPickFeature ? 'pointer' : undefined }}
              onClick={onPickFeature ? () => onPickFeature(row.feature) : undefined}
            >
              <text
                x={LEFT - 8}
                y={y + rowHeight / 2}
                dy="0.32em"
                textAnchor="end"
                fontSize={10}
                fontWeight={row.feature === activeFeature ? 700 : 400}
                fill={row.feature === activeFeature ? '#1d4ed8' : undefined}
              >
                {row.label ? `${row.label.slice(0, 12)} ` : ''}#{row.feature}
              </text>
              <rect x={LEFT} y={y} width={iw} height={rowHeight - 1} fill="#f5f7fa" />
              {row.activations.map((v, i) =>
                v > 0 ? (
                  <rect
                    key={i}
                    x={LEFT + i * step}
                    y={y}
                    width={Math.max(0.6, step)}
                    height={rowHeight - 1}
                    fill={scale.hex(v)}
                  />
                ) : null
              )}
              {row.feature === activeFeature && (
                <rect x={LEFT - 0.5} y={y - 0.5} width={iw + 1} height={rowHeight} fill="none" stroke="#1d4ed8" />
              )}
            </g>
          )
        })}
        {range && (
          <rect
            x={LEFT + (range.start - 1) * step}
            y={top - 2}
            width={(range.end - range.start + 1) * step}
            height={rows.length * rowHeight + 3}
            fill="none"
            stroke="#1d4ed8"
            strokeDasharray="4 2"
            pointerEvents="none"
          />
        )}
        {hovered !== null && hovered >= 1 && hovered <= length && (
          <rect
            data-export="skip"
            x={LEFT + (hovered - 1) * step}
            y={top}
            width={Math.max(2, step)}
            height={rows.length * rowHeight}
            fill="#1d4ed8"
            fillOpacity={0.25}
            pointerEvents="none"
          />
        )}
        <text x={LEFT} y={height - 8} fontSize={9} fill="#9aa5b1">
          1
        </text>
        <text x={LEFT + iw} y={height - 8} fontSize={9} textAnchor="end" fill="#9aa5b1">
          {length}
        </text>
        <text x={LEFT + iw / 2} y={height - 8} fontSize={9} textAnchor="middle" fill="#9aa5b1">
          residue
        </text>
      </ResidueSvg>
    </div>
  )
}
