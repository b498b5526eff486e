/** Errors of the hub client: each says what went wrong, for which repository or file, and what to do. */

export type HubErrorCode =
  | 'repo-not-found'
  | 'revision-not-found'
  | 'entry-not-found'
  | 'gated'
  | 'unauthorized'
  | 'checksum'
  | 'disk-full'
  | 'network'
  | 'offline-missing'
  | 'cancelled'
  | 'busy'
  | 'http'

export class HubError extends Error {
  constructor(
    readonly code: HubErrorCode,
    message: string,
    options?: { cause?: unknown }
  ) {
    super(message, options)
    this.name = 'HubError'
  }
}

/** Network failures that mean "no connection" (as opposed to a server answer). */
const OFFLINE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ECONNRESET',
  'EPIPE',
  'ENETDOWN',
  'UND_ERR_SOCKET'
])

export function isNetworkError(e: unknown): boolean {
  if (e instanceof HubError) return e.code === 'network'
  const code = (e as { code?: string } | undefined)?.code
  return code !== undefined && OFFLINE_CODES.has(code)
}
