/**
 * A steered sequence against its parent as an alignment: the two sequences in blocks of 60 columns with the
 * changed residues marked (edit and resample keep the length, so the columns are positions; other pairs are
 * aligned globally first).
 */
import { useMemo, type ReactNode } from 'react'
import { alignGlobal } from '@shared/alignment'

const BLOCK = 60

export interface SequenceDiffProps {
  parentId: string
  parent: string
  childId: string
  child: string
}

export function SequenceDiff({ parentId, parent, childId, child }: SequenceDiffProps): ReactNode {
  const { rowP, rowC, changed } = useMemo(() => {
    const [rowP, rowC] =
      parent.length === child.length
        ? [parent, child]
        : (() => {
            const a = alignGlobal(parent, child)
            return [a.alignedQuery, a.alignedTarget]
          })()
    let changed = 0
    for (let i = 0; i < rowP.length; i++) if (rowP[i] !== rowC[i]) changed++
    return { rowP, rowC, changed }
  }, [parent, child])
  const blocks: number[] = []
  for (let s = 0; s < rowP.length; s += BLOCK) blocks.push(s)
  const width = Math.max(parentId.length, childId.length, 6)
  return (
    <div className="seq-diff" data-testid="steer-diff" data-changed={changed}>
      <div className="muted" style={{ marginBottom: 4 }}>
        {changed} of {rowP.length} positions changed (
        {((100 * (rowP.length - changed)) / Math.max(1, rowP.length)).toFixed(1)}% identity)
      </div>
      {blocks.map(s => (
        <pre key={s} className="seq-diff-block">
          <span className="muted">
            {parentId.padEnd(width)} {String(s + 1).padStart(5)}{' '}
          </span>
          {rowP.slice(s, s + BLOCK)}
          {'\n'}
          <span className="muted">{''.padEnd(width)} </span>
          {[...rowP.slice(s, s + BLOCK)].map((c, k) => (rowC[s + k] === c ? ' ' : '*')).join('')}
          {'\n'}
          <span className="muted">
            {childId.padEnd(width)} {String(s + 1).padStart(5)}{' '}
          </span>
          {[...rowC.slice(s, s + BLOCK)].map((c, k) =>
            rowP[s + k] === c ? (
              c
            ) : (
              <mark
                key={k}
                className="seq-changed"
                data-testid="steer-diff-changed"
                data-position={s + k + 1}
                title={`${s + k + 1}: ${rowP[s + k]} → ${c}`}
              >
                {c}
              </mark>
            )
          )}
        </pre>
      ))}
    </div>
  )
}
