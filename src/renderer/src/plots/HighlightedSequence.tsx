/**
 * A top example as text: the residues around the peak, each letter on the activation colour (InterProt style),
 * so the firing motif can be read. Colours come from the same scale as the tracks and the structure.
 */
import type { ReactNode } from 'react'
import { activationScale, readableTextOn } from '@renderer/lib/colour-scale'

/** Residues shown on each side of the peak. */
export const HIGHLIGHT_FLANK = 40

export interface HighlightedSequenceProps {
  name: string
  sequence: string
  activations: number[]
  /** Residue (1-based) of the peak. */
  argmax: number
  /** Colour scale max (the feature's max over the project). */
  max: number
  onOpen?: () => void
}

export function HighlightedSequence({
  name,
  sequence,
  activations,
  argmax,
  max,
  onOpen
}: HighlightedSequenceProps): ReactNode {
  const scale = activationScale(max)
  const start = Math.max(0, argmax - 1 - HIGHLIGHT_FLANK)
  const end = Math.min(sequence.length, argmax + HIGHLIGHT_FLANK)
  const letters: ReactNode[] = []
  for (let i = start; i < end; i++) {
    const v = activations[i] ?? 0
    const firing = v > 0
    letters.push(
      <span
        key={i}
        data-residue={i + 1}
        data-activation={v}
        title={`${sequence[i]}${i + 1}: ${Number(v.toPrecision(3))}`}
        style={firing ? { background: scale.hex(v), color: readableTextOn(scale.rgb(v)) } : undefined}
      >
        {sequence[i]}
      </span>
    )
  }
  return (
    <div className="highlighted-sequence" data-testid="highlighted-sequence" data-start={start + 1} data-end={end}>
      <span className="hs-name">
        {onOpen ? (
          <button type="button" className="link" onClick={onOpen}>
            {name}
          </button>
        ) : (
          name
        )}{' '}
        <span className="muted">{start + 1}</span>
      </span>
      <span className="hs-letters mono">
        {start > 0 ? '…' : ''}
        {letters}
        {end < sequence.length ? '…' : ''}
      </span>
      <span className="muted"> {end}</span>
    </div>
  )
}
