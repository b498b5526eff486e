/**
 * A feature's best concept, written the same way in every view (the annotation type's label and its F1).
 * Below the concept floor (F1, `DEFAULT_CONCEPT_F1_FLOOR` unless the user changed it) the chip is muted and
 * says so: an association that weak is not a finding.
 */
import { useCallback, useEffect, useState, type ReactNode } from 'react'
import { DEFAULT_CONCEPT_F1_FLOOR } from '@shared/concept-floor'
import { ANNOTATION_LABELS, type AnnotationType } from '@shared/store-types'

const FLOOR_KEY = 'plm-sae.conceptF1Floor'
const FLOOR_EVENT = 'plm-sae-concept-floor'

/** The concept name as every view writes it; a concept split by note adds it: "Metal binding: Zn(2+)". */
export function conceptName(type: AnnotationType, note?: string | null): string {
  const name = ANNOTATION_LABELS[type] ?? type
  return note ? `${name}: ${note}` : name
}

export function readConceptFloor(): number {
  const v = Number(globalThis.localStorage?.getItem(FLOOR_KEY))
  return globalThis.localStorage?.getItem(FLOOR_KEY) !== null && Number.isFinite(v) && v >= 0 && v <= 1
    ? v
    : DEFAULT_CONCEPT_F1_FLOOR
}

/** The concept floor, kept in this browser's storage and shared by every view that shows concept chips. */
export function useConceptFloor(): [number, (v: number) => void] {
  const [floor, setFloorState] = useState(readConceptFloor)
  useEffect(() => {
    const onChange = (): void => setFloorState(readConceptFloor())
    window.addEventListener(FLOOR_EVENT, onChange)
    return () => window.removeEventListener(FLOOR_EVENT, onChange)
  }, [])
  const setFloor = useCallback((v: number) => {
    const clamped = Math.max(0, Math.min(1, Number.isFinite(v) ? v : DEFAULT_CONCEPT_F1_FLOOR))
    localStorage.setItem(FLOOR_KEY, String(clamped))
    window.dispatchEvent(new Event(FLOOR_EVENT))
  }, [])
  return [floor, setFloor]
}

export function ConceptChip({
  concept,
  floor
}: {
  concept: { type: AnnotationType; f1: number; note?: string } | null | undefined
  floor: number
}): ReactNode {
  if (!concept) return <span className="muted">—</span>
  const below = concept.f1 < floor
  return (
    <span
      className={below ? 'wb-chip concept below-floor' : 'wb-chip concept'}
      data-testid="concept-chip"
      data-below-floor={below ? 'true' : 'false'}
      title={
        below
          ? `F1 ${concept.f1.toFixed(2)} is below the concept floor ${floor.toFixed(2)}: not a finding`
          : `F1 ${concept.f1.toFixed(2)}`
      }
    >
      {conceptName(concept.type, concept.note)}
    </span>
  )
}

/** An F1 floor as the user types it: a number from 0 to 1 in steps of 0.05 (empty or out of range is clamped). */
export function F1FloorInput({
  value,
  onChange,
  testId
}: {
  value: number
  onChange: (floor: number) => void
  testId?: string
}): ReactNode {
  return (
    <input
      type="number"
      min={0}
      max={1}
      step={0.05}
      value={value}
      onChange={e => onChange(Math.max(0, Math.min(1, Number(e.target.value) || 0)))}
      style={{ width: 70 }}
      data-testid={testId}
    />
  )
}
