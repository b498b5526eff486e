/** An error message of a view or form, announced to screen readers (role="alert"); nothing when there is none. */
import type { ReactNode } from 'react'

export function ErrorAlert({
  error,
  className = 'error',
  testId
}: {
  error: string | null
  /** 'error' inline in a form; 'panel error' as a panel of its own. */
  className?: string
  testId?: string
}): ReactNode {
  if (!error) return null
  return (
    <div className={className} role="alert" data-testid={testId}>
      {error}
    </div>
  )
}
