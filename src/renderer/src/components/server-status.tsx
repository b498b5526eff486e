/**
 * Browser mode: when `plm-sae serve` goes away, say so and retry until it answers again, then reload the page
 * (the URL keeps the view), instead of leaving a view failed with "Failed to fetch dynamically imported module".
 */
import { useEffect, useState, type ReactNode } from 'react'
import { api } from '../api'
import { SERVER_UNREACHABLE_EVENT } from '../api/client'

const RETRY_MS = 3000

export function ServerStatus(): ReactNode {
  const [down, setDown] = useState(false)
  const [tries, setTries] = useState(0)
  useEffect(() => {
    if (window.workbench) return // Electron: no server to lose
    const onDown = (): void => setDown(true)
    window.addEventListener(SERVER_UNREACHABLE_EVENT, onDown)
    return () => window.removeEventListener(SERVER_UNREACHABLE_EVENT, onDown)
  }, [])
  useEffect(() => {
    if (!down) return
    let wanted = true
    const timer = setTimeout(() => {
      api.appInfo({}).then(
        () => wanted && window.location.reload(),
        () => wanted && setTries(t => t + 1)
      )
    }, RETRY_MS)
    return () => {
      wanted = false
      clearTimeout(timer)
    }
  }, [down, tries])
  if (!down) return null
  return (
    <div className="server-down" role="alert" data-testid="server-unreachable">
      The workbench server cannot be reached (is <code>plm-sae serve</code> still running?). Retrying every{' '}
      {RETRY_MS / 1000} s{tries > 0 ? ` (${tries} tries so far)` : ''}; the page reloads when it answers.
    </div>
  )
}
