/**
 * Browser mode: a node:http server that serves the built renderer (static files) and the API
 * (`POST /api/<method>` with a JSON body, `GET /api/events` server-sent events for job progress).
 *
 * Security: binds 127.0.0.1 by default. Any other address needs an access token, given as
 * `Authorization: Bearer <token>`, or once as `?token=<token>` (the server then sets an HttpOnly, SameSite=Strict
 * cookie and redirects to the same page without it). Without a token the server only answers requests whose
 * Host header is a loopback name (DNS-rebinding protection). API calls must be JSON (`content-type:
 * application/json`, so a cross-site form cannot post) from the same origin. Every request is validated by
 * src/shared/validate.ts before the engine sees it.
 *
 * Uploads (when `uploads` is given, as `plm-sae serve` does): `PUT /upload/<uploadId>/<path inside the folder>`
 * streams one file of a model or SAE folder to disk (same token, same-origin rule; content-length required and
 * at most the uploads' file limit; the path checked by `uploadPathProblem`); `addUploadedModel` registers it.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gzip, gzipSync } from 'node:zlib'
import { extname, join, normalize, resolve, sep } from 'node:path'
import type { JobEvent, WorkbenchApi } from '../../shared/api'
import { MAX_FASTA_TEXT } from '../../shared/validate'
import { dispatch } from './dispatch'
import { UploadError, type ModelUploads } from './model-uploads'

export const DEFAULT_PORT = 8765
/** The largest request body of most API methods (labels, queries, live sequences, id lists). */
export const MAX_BODY_BYTES = 1 << 20
/** Methods that carry a file's text (FASTA / UniProt up to MAX_FASTA_TEXT characters, JSON-escaped). */
const LARGE_BODY_METHODS: Record<string, number> = { createProject: MAX_FASTA_TEXT + (8 << 20) }

/** The body limit of an API method (bytes): larger requests get 413. */
export function bodyLimit(method: string): number {
  return LARGE_BODY_METHODS[method] ?? MAX_BODY_BYTES
}

/**
 * Messages to the browser name no absolute path of the server (user names, folder layout): each absolute
 * path is shortened to its last part ("…/project.sqlite").
 */
export function redactPaths(message: string): string {
  return message
    .replace(
      /(?<![\w.:/\\-])\/(?:[^\s/'"`<>|:;,()[\]{}]+\/)+([^\s/'"`<>|:;,()[\]{}]*)/g,
      (_m, last: string) => `…/${last}`
    )
    .replace(/(?<![\w])[A-Za-z]:\\(?:[^\s\\'"`<>|:;,()]+\\)+([^\s\\'"`<>|:;,()]*)/g, (_m, last: string) => `…\\${last}`)
}

class BodyTooLarge extends Error {}

type JobLike = { state: string; progress: unknown; error?: string; warnings?: string[] }

function isJob(x: unknown): x is JobLike {
  return typeof x === 'object' && x !== null && 'state' in x && 'progress' in x
}

/** A job (or list of jobs) with the paths in its messages shortened (`redactPaths`); anything else as it is. */
function redactJobs(x: unknown): unknown {
  const one = (j: JobLike): JobLike =>
    j.error || j.warnings ? { ...j, error: j.error && redactPaths(j.error), warnings: j.warnings?.map(redactPaths) } : j
  if (Array.isArray(x)) return x.map(j => (isJob(j) ? one(j) : j))
  return isJob(x) ? one(x) : x
}
const TOKEN_COOKIE = 'plm_sae_token'
const HEARTBEAT_MS = 15_000

/** The Content-Security-Policy of the app (also in index.html and the Electron session). */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "worker-src 'self' blob:",
  "connect-src 'self' https://files.rcsb.org https://models.rcsb.org https://alphafold.ebi.ac.uk",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join('; ')

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8'
}

export interface HttpServerOptions {
  api: WorkbenchApi
  /** The built renderer (out/renderer), served at /. */
  staticDir: string
  host?: string
  /** 0 = any free port. */
  port?: number
  /** Required when `host` is not a loopback address. */
  token?: string
  /** Where `PUT /upload/…` writes (browser mode's folder uploads); without it the route answers 404. */
  uploads?: ModelUploads
  log?: (line: string) => void
}

export interface RunningHttpServer {
  server: Server
  host: string
  port: number
  /** The address to open (with `?token=` when a token is set). */
  url: string
  close(): Promise<void>
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  return h === 'localhost' || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h)
}

/** A random token for `--token` (printed by the CLI when the user asks for one). */
export function generateToken(): string {
  return randomBytes(24).toString('base64url')
}

function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** True when `origin` is this server (scheme + host as the request addressed it); "null" (opaque) never is. */
function sameOrigin(origin: string, host: string | undefined): boolean {
  if (origin === 'null' || !host) return false
  try {
    const u = new URL(origin)
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.host === host
  } catch {
    return false
  }
}

function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=')
    if (k === name) return decodeURIComponent(v.join('='))
  }
  return undefined
}

function securityHeaders(res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY)
  res.setHeader('X-Content-Type-Options', 'nosniff')
  res.setHeader('X-Frame-Options', 'DENY')
  res.setHeader('Referrer-Policy', 'no-referrer')
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin')
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin')
}

/** Responses larger than this are gzip-compressed when the client accepts it (feature tables, bundles). */
const GZIP_MIN_BYTES = 16 * 1024
/** Answers larger than this are compressed off the request thread. */
const GZIP_ASYNC_BYTES = 256 * 1024
const COMPRESSIBLE = /^(?:text\/|application\/(?:json|javascript|wasm)|image\/svg)/

function acceptsGzip(req: IncomingMessage | undefined): boolean {
  return /\bgzip\b/.test(String(req?.headers['accept-encoding'] ?? ''))
}

function sendJson(res: ServerResponse, status: number, body: unknown, req?: IncomingMessage): void {
  const text = Buffer.from(JSON.stringify(body))
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    vary: 'accept-encoding'
  }
  const send = (data: Buffer): void => {
    if (data !== text) headers['content-encoding'] = 'gzip'
    headers['content-length'] = data.length
    res.writeHead(status, headers)
    res.end(data)
  }
  if (text.length < GZIP_MIN_BYTES || !acceptsGzip(req)) return send(text)
  if (text.length < GZIP_ASYNC_BYTES) return send(gzipSync(text, { level: 4 }))
  // Large answers are compressed on libuv's thread pool, so one big answer does not hold up the other requests.
  gzip(text, { level: 4 }, (err, zipped) => (err ? send(text) : send(zipped)))
}

function sendError(
  res: ServerResponse,
  status: number,
  kind: 'invalid-request' | 'not-found' | 'failed' | 'unauthorized' | 'conflict',
  message: string
): void {
  if (res.headersSent) return
  sendJson(res, status, { error: { kind, message: redactPaths(message) } })
}

function sizeText(bytes: number): string {
  return bytes >= 1 << 20 ? `${Math.round(bytes / (1 << 20))} MiB` : `${Math.round(bytes / 1024)} KiB`
}

/** The body, or a `BodyTooLarge` as soon as it passes `limit` (what was read is dropped; the rest is not kept). */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let over = false
    req.on('data', (c: Buffer) => {
      if (over) return
      size += c.length
      if (size > limit) {
        over = true
        chunks.length = 0
        reject(new BodyTooLarge())
        return
      }
      chunks.push(c)
    })
    req.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

export async function startHttpServer(opts: HttpServerOptions): Promise<RunningHttpServer> {
  const host = opts.host ?? '127.0.0.1'
  const token = opts.token
  if (token !== undefined && token.length < 16)
    throw new Error(
      'The access token must have at least 16 characters (use --token with a long random string, or --token generate).'
    )
  if (!isLoopbackHost(host) && !token) {
    throw new Error(
      `Listening on ${host} makes the workbench reachable from other machines, so it needs an access token: ` +
        `run again with --token <secret> (at least 16 characters; e.g. --token ${generateToken()}), or PLM_SAE_TOKEN=<secret>, or --token generate.`
    )
  }
  const staticRoot = resolve(opts.staticDir)
  const indexFile = join(staticRoot, 'index.html')
  if (!existsSync(indexFile)) {
    throw new Error(
      `The renderer is not built: ${indexFile} is missing. Run \`npm run build:web\` (or \`npx electron-vite build\`) in the project folder first.`
    )
  }
  const sseClients = new Set<ServerResponse>()
  const gzipCache = new Map<string, { mtime: number; data: Buffer }>()
  const offJobs = opts.api.onJobEvent((e: JobEvent) => {
    const frame = `event: job\ndata: ${JSON.stringify({ ...e, job: redactJobs(e.job) })}\n\n`
    for (const res of sseClients) res.write(frame)
  })
  const heartbeat = setInterval(() => {
    for (const res of sseClients) res.write(': keep-alive\n\n')
  }, HEARTBEAT_MS)
  heartbeat.unref()

  function hostAllowed(req: IncomingMessage): boolean {
    // With a token, the token is the protection; without one, only loopback names may be used (no DNS rebinding).
    if (token) return true
    const h = req.headers.host ?? ''
    const name = h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.split(':')[0]
    return isLoopbackHost(name)
  }
  function authorized(req: IncomingMessage): boolean {
    if (!token) return true
    const auth = req.headers.authorization
    if (auth?.startsWith('Bearer ') && sameSecret(auth.slice(7).trim(), token)) return true
    return sameSecret(cookieValue(req, TOKEN_COOKIE), token)
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST')
      return sendError(res, 405, 'invalid-request', `API calls are POST requests with a JSON body (got ${req.method}).`)
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase()
    if (type !== 'application/json')
      return sendError(res, 415, 'invalid-request', 'API requests must be sent as application/json.')
    const origin = req.headers.origin
    if (origin !== undefined && !sameOrigin(origin, req.headers.host)) {
      return sendError(
        res,
        403,
        'unauthorized',
        'Cross-origin API calls are not allowed (nor an opaque "null" origin).'
      )
    }
    const limit = bodyLimit(method)
    const tooLarge = (): void => {
      res.setHeader('connection', 'close')
      sendError(
        res,
        413,
        'invalid-request',
        `The request body is larger than ${sizeText(limit)}, the most ${method} accepts.`
      )
    }
    const declared = Number(req.headers['content-length'])
    if (Number.isFinite(declared) && declared > limit) return tooLarge()
    let body: unknown
    try {
      const text = await readBody(req, limit)
      body = text.trim() === '' ? {} : (JSON.parse(text) as unknown)
    } catch (e) {
      if (e instanceof BodyTooLarge) return tooLarge()
      return sendError(
        res,
        400,
        'invalid-request',
        `Invalid request: the body is not valid JSON (${(e as Error).message}).`
      )
    }
    const out = await dispatch(opts.api, method, body)
    if (out.ok) sendJson(res, 200, redactJobs(out.result ?? null), req)
    else sendJson(res, out.status, { error: { ...out.body.error, message: redactPaths(out.body.error.message) } }, req)
  }

  async function handleUpload(req: IncomingMessage, res: ServerResponse, rest: string): Promise<void> {
    if (!opts.uploads) return sendError(res, 404, 'not-found', 'Uploads are not enabled on this server.')
    if (req.method !== 'PUT') {
      res.setHeader('allow', 'PUT')
      return sendError(res, 405, 'invalid-request', `Uploads are PUT requests (got ${req.method}).`)
    }
    const origin = req.headers.origin
    if (origin !== undefined && !sameOrigin(origin, req.headers.host))
      return sendError(res, 403, 'unauthorized', 'Cross-origin uploads are not allowed.')
    const slash = rest.indexOf('/')
    let path: string
    try {
      path = decodeURIComponent(rest.slice(slash + 1))
    } catch {
      return sendError(res, 400, 'invalid-request', 'Bad path encoding.')
    }
    const declared = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length'])
    try {
      const bytes = await opts.uploads.receive(slash < 0 ? rest : rest.slice(0, slash), path, declared, req)
      sendJson(res, 200, { path, bytes })
    } catch (e) {
      if (!(e instanceof UploadError)) throw e
      res.setHeader('connection', 'close')
      sendError(res, e.status, 'invalid-request', e.message)
    }
  }

  function handleEvents(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no'
    })
    res.write(': connected\n\n')
    sseClients.add(res)
    req.on('close', () => sseClients.delete(res))
  }

  function handleStatic(req: IncomingMessage, res: ServerResponse, pathname: string): void {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return sendError(res, 405, 'invalid-request', `${req.method} is not allowed here.`)
    let rel: string
    try {
      rel = decodeURIComponent(pathname)
    } catch {
      return sendError(res, 400, 'invalid-request', 'Bad path encoding.')
    }
    if (rel.includes('\0')) return sendError(res, 400, 'invalid-request', 'Bad path.')
    const file = normalize(join(staticRoot, rel === '/' ? 'index.html' : rel))
    if (file !== staticRoot && !file.startsWith(staticRoot + sep)) return sendError(res, 404, 'not-found', 'Not found.')
    let target = file
    if (!existsSync(target) || !statSync(target).isFile()) {
      // Unknown paths without an extension are client-side routes: serve the app.
      if (extname(rel) === '') target = indexFile
      else return sendError(res, 404, 'not-found', `Not found: ${rel}`)
    }
    const type = CONTENT_TYPES[extname(target).toLowerCase()] ?? 'application/octet-stream'
    let data: Buffer = readFileSync(target)
    const headers: Record<string, string | number> = {
      'content-type': type,
      'cache-control': target === indexFile ? 'no-store' : 'public, max-age=3600',
      vary: 'accept-encoding'
    }
    if (data.length >= GZIP_MIN_BYTES && COMPRESSIBLE.test(type) && acceptsGzip(req)) {
      const mtime = statSync(target).mtimeMs
      let cached = gzipCache.get(target)
      if (!cached || cached.mtime !== mtime) {
        cached = { mtime, data: gzipSync(data, { level: 6 }) }
        gzipCache.set(target, cached)
      }
      data = cached.data
      headers['content-encoding'] = 'gzip'
    }
    headers['content-length'] = data.length
    res.writeHead(200, headers)
    res.end(req.method === 'HEAD' ? undefined : data)
  }

  const server = createServer((req, res) => {
    securityHeaders(res)
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (!hostAllowed(req))
      return sendError(
        res,
        403,
        'unauthorized',
        'This server only answers on its loopback address (127.0.0.1 / localhost).'
      )
    const given = url.searchParams.get('token')
    if (token && given !== null) {
      if (!sameSecret(given, token)) return sendError(res, 401, 'unauthorized', 'Wrong access token.')
      url.searchParams.delete('token')
      res.setHeader('set-cookie', `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`)
      res.writeHead(303, { location: `${url.pathname}${url.search}` })
      res.end()
      return
    }
    if (!authorized(req)) {
      return sendError(
        res,
        401,
        'unauthorized',
        'This workbench needs its access token: open the address printed by `plm-sae serve` (…?token=…), or send "Authorization: Bearer <token>".'
      )
    }
    const path = url.pathname
    if (path === '/api/events') return handleEvents(req, res)
    if (path.startsWith('/upload/')) {
      // The raw path (before URL normalisation would fold "..") is the one checked.
      const raw = (req.url ?? '').split('?')[0]
      handleUpload(req, res, raw.startsWith('/upload/') ? raw.slice(8) : path.slice(8)).catch((e: Error) =>
        sendError(res, 500, 'failed', `The upload failed: ${e.message}`)
      )
      return
    }
    if (path.startsWith('/api/')) {
      handleApi(req, res, path.slice(5)).catch((e: Error) =>
        sendError(res, 500, 'failed', `The server failed: ${e.message}`)
      )
      return
    }
    handleStatic(req, res, path)
  })
  server.on('clientError', (_e, socket) => socket.destroy())

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new Error(
          e.code === 'EADDRINUSE'
            ? `Port ${opts.port} on ${host} is already in use: choose another with --port.`
            : `Cannot listen on ${host}:${opts.port}: ${e.message}`,
          { cause: e }
        )
      )
    )
    server.listen(opts.port ?? DEFAULT_PORT, host, () => resolveListen())
  })
  const boundPort = (server.address() as AddressInfo).port
  const shownHost = host.includes(':') ? `[${host}]` : host
  const url = `http://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost}:${boundPort}/${token ? `?token=${encodeURIComponent(token)}` : ''}`
  return {
    server,
    host,
    port: boundPort,
    url,
    close: () =>
      new Promise<void>(resolveClose => {
        offJobs()
        clearInterval(heartbeat)
        for (const res of sseClients) res.end()
        sseClients.clear()
        server.closeAllConnections()
        server.close(() => resolveClose())
      })
  }
}
