/** The feature picker of the steering panel: search features by id, label or concept and add one as a clamp. */
import { useEffect, useState } from 'react'
import { api } from '@renderer/api'
import type { FeatureSummary } from '@shared/store-types'
import { formatNumber } from '@renderer/components/format'
import { conceptName } from '@renderer/components/concept-chip'

const SEARCH_DELAY_MS = 200

export function FeatureSearch({ projectId, onAdd }: { projectId: string; onAdd: (feature: number) => void }) {
  const [text, setText] = useState('')
  const [items, setItems] = useState<FeatureSummary[]>([])
  useEffect(() => {
    const q = text.trim()
    if (!q) {
      setItems([])
      return
    }
    let wanted = true
    const timer = setTimeout(() => {
      api.listFeatures({ projectId, text: q, status: 'alive', sort: { key: 'max', dir: 'desc' }, limit: 12 }).then(
        r => wanted && setItems(r.items),
        () => wanted && setItems([])
      )
    }, SEARCH_DELAY_MS)
    return () => {
      wanted = false
      clearTimeout(timer)
    }
  }, [projectId, text])
  const asId = /^\d+$/.test(text.trim()) ? Number(text.trim()) : undefined
  // Adding a feature clears the search, ready for the next one.
  const add = (feature: number): void => {
    onAdd(feature)
    setText('')
  }
  return (
    <div className="steer-search">
      <input
        type="search"
        placeholder="Add a feature: id, label or concept"
        value={text}
        onChange={e => setText(e.target.value)}
        data-testid="steer-feature-search"
      />
      {asId !== undefined && !items.some(f => f.id === asId) && (
        <button className="btn-small" onClick={() => add(asId)}>
          add feature {asId}
        </button>
      )}
      {items.length > 0 && (
        <ul className="steer-search-results">
          {items.map(f => (
            <li key={f.id}>
              <button className="link" onClick={() => add(f.id)} data-testid="steer-feature-result">
                f{f.id} {f.label || (f.bestConcept ? conceptName(f.bestConcept.type) : '')}{' '}
                <span className="muted">max {formatNumber(f.max)}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}
