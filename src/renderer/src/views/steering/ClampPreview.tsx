/**
 * The clamp preview: while the clamps or the starting sequence change, the service's per-position amino-acid
 * probabilities with and without the clamps (debounced), drawn as a heat map of the shift.
 */
import { useEffect, useMemo, useRef, useState } from 'react'
import { api } from '@renderer/api'
import type { ClampSpec, SteeringPreview } from '@shared/steering-types'
import { useElementWidth } from '@renderer/components/use-async'
import { ShiftHeatmap } from './ShiftHeatmap'
import { shiftMatrix } from './shift-heatmap'
import { toSpecs, type ClampRow } from './steering-state'

const PREVIEW_DELAY_MS = 350

export function ClampPreview({
  projectId,
  sequence,
  clamps
}: {
  projectId: string
  sequence: string
  clamps: ClampRow[]
}) {
  const ref = useRef<HTMLDivElement>(null)
  const width = useElementWidth(ref, 900)
  const [preview, setPreview] = useState<SteeringPreview | null>(null)
  const [error, setError] = useState<string | null>(null)
  // The request is keyed by the specs' content: a label lookup or an equal edit does not ask again.
  const specsKey = JSON.stringify(toSpecs(clamps))
  useEffect(() => {
    let wanted = true
    const timer = setTimeout(() => {
      api.steeringPreview({ projectId, sequence, clamps: JSON.parse(specsKey) as ClampSpec[] }).then(
        p => {
          if (!wanted) return
          setPreview(p)
          setError(null)
        },
        (e: Error) => wanted && setError(e.message)
      )
    }, PREVIEW_DELAY_MS)
    return () => {
      wanted = false
      clearTimeout(timer)
    }
  }, [projectId, sequence, specsKey])
  const shift = useMemo(() => (preview ? shiftMatrix(preview) : null), [preview])
  return (
    <section className="wb-panel" ref={ref}>
      <div className="wb-panel-head">Clamp preview</div>
      {error && <p className="error-inline">{error}</p>}
      {shift && preview && <ShiftHeatmap shift={shift} sequence={preview.sequence} width={width - 16} />}
      {!shift && !error && <p className="muted">computing…</p>}
    </section>
  )
}
