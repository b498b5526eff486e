/** A labelled progress bar (role="progressbar" with aria values, so tests and screen readers can read it). */
import type { ReactNode } from 'react'

export function ProgressBar({
  done,
  total,
  label,
  testId
}: {
  done: number
  total: number
  label?: string
  testId?: string
}): ReactNode {
  const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0
  return (
    <div
      className="progress"
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(fraction * 100)}
      aria-label={label}
      data-testid={testId}
    >
      <div className="progress-fill" style={{ width: `${(fraction * 100).toFixed(1)}%` }} />
      <span className="progress-text">{label ?? `${Math.round(fraction * 100)}%`}</span>
    </div>
  )
}

export function formatDuration(seconds: number | undefined | null): string {
  if (seconds === undefined || seconds === null || !Number.isFinite(seconds)) return ''
  if (seconds < 60) return `${Math.round(seconds)} s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US')
}
