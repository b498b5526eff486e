import { useState } from 'react'

export interface ExportButtonsProps {
  /** Shown in the buttons' titles, e.g. "histogram". */
  what: string
  onExport: (format: 'svg' | 'png') => Promise<void> | void | null
  formats?: ('svg' | 'png')[]
  testId?: string
}

/** Small "SVG" / "PNG" buttons in a plot's header. */
export function ExportButtons({ what, onExport, formats = ['svg', 'png'], testId }: ExportButtonsProps) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const run = async (format: 'svg' | 'png'): Promise<void> => {
    setBusy(true)
    setError(null)
    try {
      await onExport(format)
    } catch (e) {
      setError((e as Error).message)
    } finally {
      setBusy(false)
    }
  }
  return (
    <span className="export-buttons" data-testid={testId}>
      {formats.map(f => (
        <button
          key={f}
          type="button"
          className="btn-small"
          disabled={busy}
          title={`Export the ${what} as ${f.toUpperCase()}`}
          onClick={() => void run(f)}
        >
          {f.toUpperCase()}
        </button>
      ))}
      {error && <span className="error-inline">{error}</span>}
    </span>
  )
}
