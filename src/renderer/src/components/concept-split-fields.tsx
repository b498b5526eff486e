/**
 * How concepts are split for an index job: the concept types also scored per note or ligand ("Metal binding:
 * Zn(2+)" apart from "Metal binding: Mg(2+)") and the minimum annotation instances below which a concept is
 * not scored (the app's form of `plm-sae index --split-concepts … --min-concept-instances N`).
 */
import type { ReactNode } from 'react'
import { CONCEPT_TYPES, type AnnotationType, type ConceptSplit } from '@shared/store-types'
import { conceptName } from './concept-chip'

export const NO_CONCEPT_SPLIT: ConceptSplit = { splitTypes: [], minInstances: 1 }

/** The split to send with a request: undefined when it is the default (nothing split, every concept scored). */
export function conceptSplitRequest(split: ConceptSplit): ConceptSplit | undefined {
  return split.splitTypes.length === 0 && split.minInstances === 1 ? undefined : split
}

export function ConceptSplitFields({
  value,
  onChange,
  testId
}: {
  value: ConceptSplit
  onChange(v: ConceptSplit): void
  /** Prefix of the fields' test ids: `${testId}-types`, `${testId}-min`. */
  testId: string
}): ReactNode {
  return (
    <>
      <label title="Each chosen type is also scored per note or ligand, besides the whole type (as InterPLM splits its categorical columns): e.g. Metal binding: Zn(2+) apart from Metal binding: Mg(2+). Ctrl/⌘-click to choose several.">
        Split concepts by note
        <select
          multiple
          size={4}
          value={value.splitTypes}
          onChange={e =>
            onChange({
              ...value,
              splitTypes: Array.from(e.target.selectedOptions, o => o.value as AnnotationType)
            })
          }
          data-testid={`${testId}-types`}
        >
          {CONCEPT_TYPES.map(t => (
            <option key={t} value={t}>
              {conceptName(t)}
            </option>
          ))}
        </select>
      </label>
      <label title="Concepts (whole types and notes) with fewer annotation instances in the indexed proteins are not scored (InterPLM: 100 over Swiss-Prot).">
        Min. instances
        <input
          type="number"
          min={1}
          step={1}
          value={value.minInstances}
          onChange={e => {
            const n = Math.floor(Number(e.target.value))
            onChange({ ...value, minInstances: Number.isFinite(n) && n >= 1 ? n : 1 })
          }}
          style={{ width: '6em' }}
          data-testid={`${testId}-min`}
        />
      </label>
    </>
  )
}
