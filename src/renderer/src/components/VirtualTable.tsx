/**
 * A windowed table: only the rows in view (plus a few) are in the DOM, so 10,000+ rows scroll smoothly.
 * Keyboard: ↑/↓ move the active row, PageUp/PageDown by a page, Home/End, Enter opens the active row.
 */
import { useEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react'

export interface Column<T> {
  key: string
  title: string
  /** CSS grid track, e.g. '80px' or 'minmax(120px, 2fr)'. */
  width: string
  numeric?: boolean
  /** Sortable when set (the header is clickable). */
  sortKey?: string
  render: (row: T, index: number) => ReactNode
}

export interface VirtualTableProps<T> {
  rows: T[]
  columns: Column<T>[]
  rowKey: (row: T) => string | number
  rowHeight?: number
  height: number
  activeIndex: number
  onActiveIndexChange: (index: number) => void
  onOpen?: (row: T, index: number) => void
  /** A single click opens the row (`onOpen`), not only Enter or a double click. */
  openOnClick?: boolean
  sort?: { key: string; dir: 'asc' | 'desc' }
  onSort?: (key: string) => void
  footer?: ReactNode
  testId?: string
  emptyText?: string
}

const OVERSCAN = 6

export function VirtualTable<T>({
  rows,
  columns,
  rowKey,
  rowHeight = 30,
  height,
  activeIndex,
  onActiveIndexChange,
  onOpen,
  openOnClick = false,
  sort,
  onSort,
  footer,
  testId = 'virtual-table',
  emptyText = 'Nothing to show'
}: VirtualTableProps<T>) {
  const bodyRef = useRef<HTMLDivElement>(null)
  const [scrollTop, setScrollTop] = useState(0)
  const template = columns.map(c => c.width).join(' ')
  const bodyHeight = Math.max(rowHeight * 3, height - 34 - (footer ? 30 : 0))
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - OVERSCAN)
  const last = Math.min(rows.length, Math.ceil((scrollTop + bodyHeight) / rowHeight) + OVERSCAN)

  // Keep the active row in view.
  useEffect(() => {
    const body = bodyRef.current
    if (!body || activeIndex < 0) return
    const top = activeIndex * rowHeight
    if (top < body.scrollTop) body.scrollTop = top
    else if (top + rowHeight > body.scrollTop + body.clientHeight) body.scrollTop = top + rowHeight - body.clientHeight
  }, [activeIndex, rowHeight])

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>): void => {
    const page = Math.max(1, Math.floor(bodyHeight / rowHeight) - 1)
    const move = (to: number): void => {
      e.preventDefault()
      if (rows.length) onActiveIndexChange(Math.max(0, Math.min(rows.length - 1, to)))
    }
    switch (e.key) {
      case 'ArrowDown':
        return move(activeIndex + 1)
      case 'ArrowUp':
        return move(activeIndex - 1)
      case 'PageDown':
        return move(activeIndex + page)
      case 'PageUp':
        return move(activeIndex - page)
      case 'Home':
        return move(0)
      case 'End':
        return move(rows.length - 1)
      case 'Enter':
        if (activeIndex >= 0 && activeIndex < rows.length && onOpen) {
          e.preventDefault()
          onOpen(rows[activeIndex], activeIndex)
        }
    }
  }

  const visible: ReactNode[] = []
  for (let i = first; i < last; i++) {
    const row = rows[i]
    visible.push(
      <div
        key={rowKey(row)}
        role="row"
        aria-selected={i === activeIndex}
        className={i === activeIndex ? 'vt-row active' : 'vt-row'}
        style={{ top: i * rowHeight, height: rowHeight, gridTemplateColumns: template }}
        data-row-index={i}
        onClick={() => {
          onActiveIndexChange(i)
          if (openOnClick) onOpen?.(row, i)
        }}
        onDoubleClick={openOnClick ? undefined : () => onOpen?.(row, i)}
      >
        {columns.map(c => (
          <div key={c.key} role="cell" className={c.numeric ? 'num' : undefined}>
            {c.render(row, i)}
          </div>
        ))}
      </div>
    )
  }

  return (
    <div
      className="vt"
      style={{ height }}
      data-testid={testId}
      data-rows={rows.length}
      data-first-key={rows.length ? rowKey(rows[0]) : ''}
    >
      <div className="vt-head" role="row" style={{ gridTemplateColumns: template }}>
        {columns.map(c => {
          const sorted = sort && c.sortKey === sort.key
          return (
            <div
              key={c.key}
              role="columnheader"
              className={[c.numeric ? 'num' : '', c.sortKey && onSort ? 'sortable' : '', sorted ? 'sorted' : ''].join(
                ' '
              )}
              aria-sort={sorted ? (sort.dir === 'asc' ? 'ascending' : 'descending') : undefined}
              data-testid={`${testId}-sort-${c.key}`}
              onClick={c.sortKey && onSort ? () => onSort(c.sortKey as string) : undefined}
            >
              {c.title}
              {sorted ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}
            </div>
          )
        })}
      </div>
      <div
        ref={bodyRef}
        className="vt-body"
        role="grid"
        tabIndex={0}
        aria-rowcount={rows.length}
        aria-activedescendant={undefined}
        style={{ height: bodyHeight }}
        onScroll={e => setScrollTop(e.currentTarget.scrollTop)}
        onKeyDown={onKeyDown}
        data-testid={`${testId}-body`}
      >
        <div style={{ height: rows.length * rowHeight, position: 'relative' }}>{visible}</div>
        {rows.length === 0 && (
          <div className="muted" style={{ padding: 16, position: 'absolute', top: 0 }}>
            {emptyText}
          </div>
        )}
      </div>
      {footer && <div className="vt-foot">{footer}</div>}
    </div>
  )
}
