/**
 * HTTP(S) GET with redirects, cancellation and proxies, on node:http / node:https / node:tls only.
 *
 * Proxies follow the usual environment variables (curl and Hugging Face's own tools read the same ones):
 * `HTTPS_PROXY`/`https_proxy` for https URLs, `HTTP_PROXY`/`http_proxy` for http URLs, `ALL_PROXY` as a
 * fallback, and `NO_PROXY`/`no_proxy` (comma-separated hosts, `.domain` suffixes, `host:port`, or `*`).
 * https goes through the proxy with a CONNECT tunnel and TLS to the origin inside it; http sends the
 * absolute URL to the proxy. `user:pass@` in the proxy URL becomes `Proxy-Authorization: Basic`.
 * The Authorization header is sent only to the origin host, never to a redirect target on another host
 * (the hub redirects LFS files to a CDN with a signed URL).
 */
import http from 'node:http'
import https from 'node:https'
import tls from 'node:tls'
import { isIP } from 'node:net'
import type { Duplex } from 'node:stream'
import { HubError } from './hub-errors'

export interface HttpGetOptions {
  headers?: Record<string, string>
  signal?: AbortSignal
  env?: NodeJS.ProcessEnv
  /** Headers (e.g. Authorization) sent only while the host is `authHost`. */
  authHeaders?: Record<string, string>
  maxRedirects?: number
  /** Socket idle timeout in ms (default 60 s): a stalled connection becomes a network error. */
  idleTimeoutMs?: number
  /** Trusted CA certificates (PEM) replacing Node's defaults, e.g. the system roots plus a corporate proxy's CA. */
  ca?: string[]
}

export interface HttpResponse {
  status: number
  headers: http.IncomingHttpHeaders
  /** The URL that answered (after redirects). */
  url: string
  /** Every redirect response seen on the way, in order (the hub's 302 carries X-Linked-Etag/X-Linked-Size). */
  redirects: { status: number; url: string; headers: http.IncomingHttpHeaders }[]
  body: http.IncomingMessage
}

function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name] ?? env[name.toLowerCase()]
  return v && v.trim() !== '' ? v.trim() : undefined
}

function defaultPort(protocol: string): number {
  return protocol === 'https:' ? 443 : 80
}

/** Whether NO_PROXY exempts this URL. */
export function bypassesProxy(url: URL, env: NodeJS.ProcessEnv): boolean {
  const noProxy = envValue(env, 'NO_PROXY')
  if (!noProxy) return false
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '')
  const port = url.port || String(defaultPort(url.protocol))
  for (const raw of noProxy.split(/[,\s]+/)) {
    const entry = raw.trim().toLowerCase()
    if (entry === '') continue
    if (entry === '*') return true
    let [h, p] = [entry, '']
    const m = /^(.*):(\d+)$/.exec(entry)
    if (m && !entry.startsWith('[')) [h, p] = [m[1], m[2]]
    if (p && p !== port) continue
    h = h.replace(/^\*?\./, '.')
    if (h.startsWith('.') ? host.endsWith(h) || host === h.slice(1) : host === h || host.endsWith(`.${h}`)) return true
  }
  return false
}

/** The proxy to use for a URL, or undefined for a direct connection. */
export function proxyFor(url: URL, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  if (bypassesProxy(url, env)) return undefined
  const raw =
    url.protocol === 'https:'
      ? (envValue(env, 'HTTPS_PROXY') ?? envValue(env, 'ALL_PROXY'))
      : (envValue(env, 'HTTP_PROXY') ?? envValue(env, 'ALL_PROXY'))
  if (!raw) return undefined
  try {
    const proxy = new URL(raw.includes('://') ? raw : `http://${raw}`)
    if (proxy.protocol !== 'http:' && proxy.protocol !== 'https:') {
      throw new HubError(
        'network',
        `proxy "${raw}" uses ${proxy.protocol}; only http:// and https:// proxies are supported (no SOCKS)`
      )
    }
    return proxy
  } catch (e) {
    if (e instanceof HubError) throw e
    throw new HubError('network', `the proxy setting "${raw}" is not a valid URL`, { cause: e })
  }
}

function proxyAuth(proxy: URL): Record<string, string> {
  if (!proxy.username) return {}
  const creds = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`
  return { 'Proxy-Authorization': `Basic ${Buffer.from(creds).toString('base64')}` }
}

function proxyRequest(proxy: URL, options: http.RequestOptions): http.ClientRequest {
  const mod = proxy.protocol === 'https:' ? https : http
  return mod.request({ ...options, host: proxy.hostname, port: proxy.port || defaultPort(proxy.protocol) })
}

/** Opens a CONNECT tunnel through the proxy to host:port and starts TLS to the origin inside it. */
function tunnel(proxy: URL, target: URL, signal?: AbortSignal, ca?: string[]): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const port = target.port || String(defaultPort(target.protocol))
    const authority = `${target.hostname}:${port}`
    const req = proxyRequest(proxy, {
      method: 'CONNECT',
      path: authority,
      headers: { Host: authority, ...proxyAuth(proxy) },
      signal
    })
    req.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy()
        reject(
          new HubError(
            'network',
            `the proxy ${proxy.host} refused to connect to ${authority} (HTTP ${res.statusCode} ${res.statusMessage ?? ''}); check HTTPS_PROXY and NO_PROXY`
          )
        )
        return
      }
      const secure = tls.connect({
        socket,
        host: target.hostname,
        servername: isIP(target.hostname) ? undefined : target.hostname,
        ...(ca ? { ca } : {})
      })
      secure.once('secureConnect', () => resolve(secure))
      secure.once('error', reject)
    })
    req.once('error', e =>
      reject(new HubError('network', `cannot reach the proxy ${proxy.host}: ${(e as Error).message}`, { cause: e }))
    )
    req.end()
  })
}

async function requestOnce(
  url: URL,
  headers: Record<string, string>,
  opts: HttpGetOptions
): Promise<http.IncomingMessage> {
  const env = opts.env ?? process.env
  const proxy = proxyFor(url, env)
  const base: https.RequestOptions = {
    method: 'GET',
    headers: { 'User-Agent': 'plm-sae-workbench/0.1 (+node)', ...headers },
    signal: opts.signal,
    ...(opts.ca ? { ca: opts.ca } : {})
  }
  let req: http.ClientRequest
  let tunnelSocket: Duplex | undefined
  if (proxy && url.protocol === 'http:') {
    req = proxyRequest(proxy, {
      ...base,
      path: url.href,
      headers: { ...base.headers, Host: url.host, ...proxyAuth(proxy) }
    })
  } else if (proxy) {
    const socket = await tunnel(proxy, url, opts.signal, opts.ca)
    tunnelSocket = socket
    req = https.request(url, {
      ...base,
      agent: false,
      createConnection: () => socket as unknown as import('node:net').Socket
    })
  } else {
    req = (url.protocol === 'https:' ? https : http).request(url, base)
  }
  return new Promise((resolve, reject) => {
    req.setTimeout(opts.idleTimeoutMs ?? 60_000, () =>
      req.destroy(
        Object.assign(new Error(`no data from ${url.host} for ${(opts.idleTimeoutMs ?? 60_000) / 1000} s`), {
          code: 'ETIMEDOUT'
        })
      )
    )
    req.once('response', res => {
      // A tunnel carries one request: close it (and the proxy's connection) when the response is done.
      if (tunnelSocket) res.once('close', () => tunnelSocket?.destroy())
      resolve(res)
    })
    req.once('error', e => {
      tunnelSocket?.destroy()
      reject(e)
    })
    req.end()
  })
}

/** GET following redirects (301/302/303/307/308, relative or absolute Location). */
export async function httpGet(target: string, opts: HttpGetOptions = {}): Promise<HttpResponse> {
  let url = new URL(target)
  const authHost = url.host
  const redirects: HttpResponse['redirects'] = []
  const max = opts.maxRedirects ?? 10
  for (let hop = 0; ; hop++) {
    if (opts.signal?.aborted) throw new HubError('cancelled', 'download cancelled')
    const headers = { ...(opts.headers ?? {}), ...(url.host === authHost ? (opts.authHeaders ?? {}) : {}) }
    let res: http.IncomingMessage
    try {
      res = await requestOnce(url, headers, opts)
    } catch (e) {
      if (opts.signal?.aborted || (e as Error).name === 'AbortError')
        throw new HubError('cancelled', 'download cancelled', { cause: e })
      if (e instanceof HubError) throw e
      const code = String((e as { code?: string }).code ?? '')
      const advice = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)
        ? ' (TLS certificate not trusted: behind a proxy that inspects https, point SSL_CERT_FILE or REQUESTS_CA_BUNDLE at its CA certificate)'
        : ''
      throw new HubError('network', `cannot reach ${url.origin}: ${(e as Error).message}${advice}`, { cause: e })
    }
    const status = res.statusCode ?? 0
    const location = res.headers.location
    if ([301, 302, 303, 307, 308].includes(status) && location) {
      res.resume()
      redirects.push({ status, url: url.href, headers: res.headers })
      if (hop >= max) throw new HubError('http', `too many redirects fetching ${target}`)
      url = new URL(location, url)
      continue
    }
    return { status, headers: res.headers, url: url.href, redirects, body: res }
  }
}

/** Reads a whole (small) response body as text. */
export async function readText(res: HttpResponse, limit = 64 << 20): Promise<string> {
  const chunks: Buffer[] = []
  let n = 0
  for await (const chunk of res.body) {
    n += (chunk as Buffer).length
    if (n > limit) throw new HubError('http', `response from ${res.url} is larger than ${limit} bytes`)
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}
