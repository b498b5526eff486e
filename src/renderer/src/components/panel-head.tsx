/** The head of a panel: its title and a short note on how to read it (small and muted), then any controls. */
import type { ReactNode } from 'react'

export function PanelHead({ title, note, children }: { title: ReactNode; note?: ReactNode; children?: ReactNode }) {
  return (
    <div className="wb-panel-head">
      <h3>{title}</h3>
      {note !== undefined && (
        <span className="muted" style={{ fontSize: 11 }}>
          {note}
        </span>
      )}
      {children}
    </div>
  )
}
