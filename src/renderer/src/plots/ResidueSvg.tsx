import type { ReactNode, RefObject } from 'react'

/** Where a residue plot draws residues `first`..`last`: `step` pixels each, from `left` pixels into the SVG. */
export interface ResidueAxis {
  left: number
  first: number
  last: number
  step: number
}

/** The residue under the pointer at `clientX` in `svg`, or null outside the drawn residues. */
export function residueAt(svg: SVGSVGElement | null, clientX: number, axis: ResidueAxis): number | null {
  if (!svg) return null
  const r = axis.first + Math.floor((clientX - svg.getBoundingClientRect().left - axis.left) / axis.step)
  return r >= axis.first && r <= axis.last ? r : null
}

/** A residue plot's SVG: reports the residue under the pointer to `onHover` (null when it leaves). */
export function ResidueSvg({
  svgRef,
  width,
  height,
  axis,
  onHover,
  children
}: {
  svgRef: RefObject<SVGSVGElement | null>
  width: number
  height: number
  axis: ResidueAxis
  onHover?: (residue: number | null) => void
  children: ReactNode
}) {
  return (
    <svg
      ref={svgRef}
      width={width}
      height={height}
      onMouseMove={onHover ? e => onHover(residueAt(svgRef.current, e.clientX, axis)) : undefined}
      onMouseLeave={onHover ? () => onHover(null) : undefined}
    >
      {children}
    </svg>
  )
}
