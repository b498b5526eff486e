import { useEffect, useState } from 'react'
import { api } from '@renderer/api'
import { PanelHead } from '@renderer/components/panel-head'
import type { ProteinSummary } from '@shared/store-types'
import { parsePastedRecords, type PastedRecord } from '@shared/sequence-text'

export interface ProteinPickerProps {
  projectId: string
  onPick: (protein: ProteinSummary) => void
  /** A pasted sequence: the first record of the paste, and all of its records (to offer the others). */
  onSequence: (name: string, sequence: string, pasted: PastedRecord[]) => void
}

/** Proteins per page of the list (the project may hold tens of thousands: they are searched and paged in the store). */
const PAGE = 100

export function ProteinPicker({ projectId, onPick, onSequence }: ProteinPickerProps) {
  const [text, setText] = useState('')
  const [items, setItems] = useState<ProteinSummary[]>([])
  const [total, setTotal] = useState(0)
  const [error, setError] = useState<string | null>(null)
  const [pasted, setPasted] = useState('')
  const [pasteError, setPasteError] = useState<string | null>(null)
  const [active, setActive] = useState(0)
  const [offset, setOffset] = useState(0)

  useEffect(() => {
    let wanted = true
    const t = setTimeout(() => {
      api.listProteins({ projectId, text: text.trim() || undefined, offset, limit: PAGE }).then(
        r => {
          if (!wanted) return
          setItems(r.items)
          setTotal(r.total)
          setActive(0)
          setError(null)
        },
        (e: Error) => wanted && setError(e.message)
      )
    }, 150)
    return () => {
      wanted = false
      clearTimeout(t)
    }
  }, [projectId, text, offset])

  return (
    <div className="wb-grid-2" data-testid="protein-picker">
      <div className="wb-panel">
        <PanelHead
          title="Proteins of the project"
          note={`${total.toLocaleString()} ${text ? 'matching' : 'proteins'}`}
        />
        <input
          type="search"
          placeholder="Search accession, name, organism…"
          value={text}
          onChange={e => {
            setText(e.target.value)
            setOffset(0)
          }}
          style={{ width: '100%', marginBottom: 8 }}
          aria-label="Search proteins"
          data-testid="protein-search"
          onKeyDown={e => {
            if (e.key === 'ArrowDown') {
              e.preventDefault()
              setActive(a => Math.min(items.length - 1, a + 1))
            } else if (e.key === 'ArrowUp') {
              e.preventDefault()
              setActive(a => Math.max(0, a - 1))
            } else if (e.key === 'PageDown' && offset + PAGE < total) {
              e.preventDefault()
              setOffset(offset + PAGE)
            } else if (e.key === 'PageUp' && offset > 0) {
              e.preventDefault()
              setOffset(Math.max(0, offset - PAGE))
            } else if (e.key === 'Enter' && items[active]) onPick(items[active])
          }}
        />
        {error && <div className="error">{error}</div>}
        <div className="table-scroll" style={{ maxHeight: 360 }}>
          <table className="table" data-testid="protein-list">
            <thead>
              <tr>
                <th>Accession</th>
                <th>Name</th>
                <th>Organism</th>
                <th className="num">Length</th>
              </tr>
            </thead>
            <tbody>
              {items.map((p, i) => (
                <tr
                  key={p.id}
                  className={i === active ? 'clickable active' : 'clickable'}
                  onClick={() => onPick(p)}
                  data-testid="protein-row"
                  data-accession={p.accession}
                >
                  <td className="mono">{p.accession}</td>
                  <td>{p.name}</td>
                  <td className="muted">{p.organism}</td>
                  <td className="num">{p.length}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {total > PAGE && (
          <div style={{ display: 'flex', gap: 8, marginTop: 8, alignItems: 'center' }}>
            <button
              type="button"
              className="btn-small"
              disabled={offset === 0}
              onClick={() => setOffset(Math.max(0, offset - PAGE))}
              data-testid="protein-page-prev"
            >
              ‹ Previous
            </button>
            <span className="muted" style={{ fontSize: 11 }} data-testid="protein-page">
              {(offset + 1).toLocaleString()}–{Math.min(total, offset + PAGE).toLocaleString()} of{' '}
              {total.toLocaleString()}
            </span>
            <button
              type="button"
              className="btn-small"
              disabled={offset + PAGE >= total}
              onClick={() => setOffset(offset + PAGE)}
              data-testid="protein-page-next"
            >
              Next ›
            </button>
          </div>
        )}
      </div>
      <div className="wb-panel">
        <PanelHead
          title="Or paste a sequence"
          note="plain or FASTA; features are computed on demand with the project’s model and SAE (not stored)"
        />
        <textarea
          className="seq-input"
          rows={8}
          placeholder={'>my_protein\nMKTAYIAKQRQISFVKSHFSRQ…'}
          value={pasted}
          onChange={e => setPasted(e.target.value)}
          data-testid="sequence-input"
        />
        <div style={{ display: 'flex', gap: 8, marginTop: 8, alignItems: 'center' }}>
          <button
            type="button"
            className="btn btn-primary"
            data-testid="sequence-submit"
            onClick={() => {
              const r = parsePastedRecords(pasted)
              if ('error' in r) {
                setPasteError(r.error)
              } else {
                setPasteError(null)
                onSequence(r.records[0].name, r.records[0].sequence, r.records)
              }
            }}
          >
            Show features
          </button>
          {pasteError && <span className="error-inline">{pasteError}</span>}
        </div>
      </div>
    </div>
  )
}
