/** The clamp preview: a heat map of how the clamps shift each residue's amino-acid probabilities. */
import { useRef } from 'react'
import { ExportButtons } from '@renderer/components/ExportButtons'
import { exportSvgElement } from '@renderer/components/export-file'
import { shiftColour, type ShiftMatrix } from './shift-heatmap'

const LEFT = 22
const ROW = 11

export function ShiftHeatmap({ shift, sequence, width }: { shift: ShiftMatrix; sequence: string; width: number }) {
  const svgRef = useRef<SVGSVGElement>(null)
  const A = shift.aminoAcids.length
  const step = Math.max(1, (width - LEFT - 8) / Math.max(1, shift.residues))
  const height = A * ROW + 34
  const changed = new Set(shift.changedArgmax)
  return (
    <div
      className="plot"
      data-testid="steering-preview"
      data-residues={shift.residues}
      data-changed={shift.changedArgmax.length}
      data-max-abs={shift.maxAbs.toFixed(6)}
    >
      <div className="wb-panel-head">
        <span>
          Probability shift (steered − unsteered), ±{shift.maxAbs.toFixed(3)}; most likely residue changes at{' '}
          {shift.changedArgmax.length} of {shift.residues} positions
        </span>
        <ExportButtons
          what="preview heat map"
          onExport={f => svgRef.current && exportSvgElement(svgRef.current, 'steering-preview', f)}
        />
      </div>
      <svg ref={svgRef} width={width} height={height} role="img" aria-label="probability shift heat map">
        {[...shift.aminoAcids].map((aa, a) => (
          <text key={aa} x={LEFT - 4} y={a * ROW + ROW - 2} fontSize={9} textAnchor="end" fontFamily="monospace">
            {aa}
          </text>
        ))}
        {Array.from({ length: shift.residues }, (_, r) =>
          [...shift.aminoAcids].map((aa, a) => (
            <rect
              key={`${r}-${a}`}
              x={LEFT + r * step}
              y={a * ROW}
              width={step + 0.3}
              height={ROW}
              fill={shiftColour(shift.delta[r * A + a], shift.maxAbs)}
            >
              <title>{`residue ${r + 1} (${sequence[r] ?? '?'}) → ${aa}: ${shift.delta[r * A + a] >= 0 ? '+' : ''}${shift.delta[r * A + a].toFixed(4)}`}</title>
            </rect>
          ))
        )}
        {shift.changedArgmax.map(r => (
          <rect
            key={`c${r}`}
            x={LEFT + (r - 1) * step}
            y={A * ROW + 2}
            width={Math.max(step, 1.5)}
            height={5}
            fill="#111"
          />
        ))}
        <text x={LEFT} y={A * ROW + 20} fontSize={9}>
          1
        </text>
        <text x={width - 8} y={A * ROW + 20} fontSize={9} textAnchor="end">
          {shift.residues}
        </text>
        <text x={width / 2} y={A * ROW + 30} fontSize={9} textAnchor="middle">
          residue (black ticks: the most likely amino acid changes{changed.size ? '' : ' — none'})
        </text>
      </svg>
    </div>
  )
}
