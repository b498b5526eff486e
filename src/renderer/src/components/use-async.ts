import { useCallback, useEffect, useState, type RefObject } from 'react'

export interface AsyncState<T> {
  data: T | undefined
  error: string | null
  loading: boolean
}

/**
 * Runs `load` whenever it changes (give a `useCallback` with the request's inputs as its dependencies) and on
 * `reload`; stale results (from an earlier `load`) are dropped.
 */
export function useAsync<T>(load: () => Promise<T>): AsyncState<T> & { reload: () => void } {
  const [state, setState] = useState<AsyncState<T>>({ data: undefined, error: null, loading: true })
  const [tick, setTick] = useState(0)
  useEffect(() => {
    let wanted = true
    setState(s => ({ ...s, loading: true, error: null }))
    load().then(
      data => wanted && setState({ data, error: null, loading: false }),
      (e: unknown) =>
        wanted && setState({ data: undefined, error: e instanceof Error ? e.message : String(e), loading: false })
    )
    return () => {
      wanted = false
    }
  }, [load, tick])
  const reload = useCallback(() => setTick(t => t + 1), [])
  return { ...state, reload }
}

/** Element width tracked with a ResizeObserver. */
export function useElementWidth(ref: RefObject<HTMLElement | null>, fallback = 600): number {
  const [width, setWidth] = useState(fallback)
  useEffect(() => {
    const el = ref.current
    if (!el) return
    const update = (): void => setWidth(Math.max(100, Math.floor(el.clientWidth)))
    update()
    const ro = new ResizeObserver(update)
    ro.observe(el)
    return () => ro.disconnect()
  }, [ref])
  return width
}
