/**
 * The one API client of the renderer. In Electron the preload script exposes `window.workbench` (IPC); in a
 * browser (`plm-sae serve`) the same `WorkbenchApi` is implemented over HTTP (`POST /api/<method>`) and
 * server-sent events (`GET /api/events`). Views import `api` from here and never care which one it is.
 */
import {
  API_METHODS,
  type ApiCalls,
  type ApiErrorBody,
  type ApiMethod,
  type ApiRequest,
  type ApiResult,
  type JobEvent,
  type WorkbenchApi
} from '@shared/api'

declare global {
  interface Window {
    /** Set by the Electron preload script (src/preload/index.ts). */
    workbench?: WorkbenchApi
  }
}

/** An error the API returned: `message` is a sentence for the user. */
export class ApiError extends Error {
  constructor(
    readonly kind: ApiErrorBody['error']['kind'] | 'network',
    message: string,
    options?: { cause?: unknown }
  ) {
    super(message, options)
    this.name = 'ApiError'
  }
}

/** Electron's IPC wraps errors as "Error invoking remote method 'x': Error: <message>"; keep the message. */
export function cleanIpcMessage(message: string): string {
  return message.replace(/^Error invoking remote method '[^']*': (?:\w*Error: )?/, '')
}

/** Dispatched on `window` when an HTTP call or the event stream finds the server gone (browser mode). */
export const SERVER_UNREACHABLE_EVENT = 'plm-sae-server-unreachable'

/** The HTTP + SSE implementation, relative to `base` (the page's own origin by default). */
export function createHttpApi(base = ''): WorkbenchApi {
  async function call<M extends ApiMethod>(method: M, request: ApiRequest<M>): Promise<ApiResult<M>> {
    let res: Response
    try {
      res = await fetch(`${base}api/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        credentials: 'same-origin',
        body: JSON.stringify(request ?? {})
      })
    } catch (e) {
      if (typeof window !== 'undefined') window.dispatchEvent(new Event(SERVER_UNREACHABLE_EVENT))
      throw new ApiError(
        'network',
        `The workbench server cannot be reached (${(e as Error).message}). Is \`plm-sae serve\` still running?`
      )
    }
    const body = (await res.json().catch(() => null)) as unknown
    if (!res.ok) {
      const err = (body as ApiErrorBody | null)?.error
      throw new ApiError(err?.kind ?? 'failed', err?.message ?? `${method} failed (HTTP ${res.status})`)
    }
    return body as ApiResult<M>
  }

  const listeners = new Set<(e: JobEvent) => void>()
  let source: EventSource | undefined
  function ensureSource(): void {
    if (source || typeof EventSource === 'undefined') return
    source = new EventSource(`${base}api/events`, { withCredentials: true })
    // The event stream drops when the server goes away (the browser then retries it by itself).
    source.addEventListener('error', () => {
      if (source?.readyState !== EventSource.OPEN) window.dispatchEvent(new Event(SERVER_UNREACHABLE_EVENT))
    })
    source.addEventListener('job', ev => {
      const event = JSON.parse((ev as MessageEvent<string>).data) as JobEvent
      for (const l of listeners) l(event)
    })
  }

  const calls = Object.fromEntries(API_METHODS.map(m => [m, (req: never) => call(m, req)])) as unknown as ApiCalls
  return {
    ...calls,
    onJobEvent(listener) {
      listeners.add(listener)
      ensureSource()
      return () => {
        listeners.delete(listener)
        if (listeners.size === 0 && source) {
          source.close()
          source = undefined
        }
      }
    }
  }
}

/** Wraps the preload bridge so that IPC errors read like the HTTP ones. */
function wrapIpcApi(bridge: WorkbenchApi): WorkbenchApi {
  const calls = Object.fromEntries(
    API_METHODS.map(m => [
      m,
      async (req: never) => {
        try {
          return await (bridge[m] as (r: never) => Promise<unknown>)(req)
        } catch (e) {
          throw new ApiError('failed', cleanIpcMessage((e as Error).message), { cause: e })
        }
      }
    ])
  ) as unknown as ApiCalls
  return { ...calls, onJobEvent: l => bridge.onJobEvent(l) }
}

function pickApi(): WorkbenchApi {
  if (typeof window !== 'undefined' && window.workbench) return wrapIpcApi(window.workbench)
  // Served by `plm-sae serve`: the API is served beside index.html (relative, so a reverse-proxy prefix works).
  return createHttpApi('')
}

/** The API for this page. */
export const api: WorkbenchApi = pickApi()
