/**
 * The Hugging Face hub's API: a repository's file list at a revision, and the hub's error answers
 * turned into `HubError`s with advice.
 *
 *   GET {endpoint}/api/models/{repo}/revision/{rev}?blobs=true
 *     → { id, sha, siblings: [{ rfilename, size, blobId, lfs?: { sha256, size } }] }
 *   GET {endpoint}/api/models/{repo}/tree/{rev}?recursive=true   (fallback)
 *     → [{ type: 'file' | 'directory', path, size, oid, lfs?: { oid, size } }]
 *
 * Without a token the real hub answers 401 with `X-Error-Code: RepoNotFound` for an unknown or private
 * repository, 401/403 with `X-Error-Code: GatedRepo` for a gated one, 404 `RevisionNotFound` /
 * `EntryNotFound` for a missing revision or file.
 */
import { readFileSync } from 'node:fs'
import { rootCertificates } from 'node:tls'
import { HubError } from './hub-errors'
import { httpGet, readText, type HttpGetOptions, type HttpResponse } from './http-client'

export const DEFAULT_ENDPOINT = 'https://huggingface.co'

export interface HubSettings {
  endpoint: string
  token?: string
  env: NodeJS.ProcessEnv
  /** Trusted CAs (PEM): Node's roots plus the bundle named by REQUESTS_CA_BUNDLE / SSL_CERT_FILE (corporate proxies). */
  ca?: string[]
}

/**
 * `HF_ENDPOINT` (default https://huggingface.co), `HF_TOKEN` (also `HUGGING_FACE_HUB_TOKEN`), and an extra CA
 * bundle from `REQUESTS_CA_BUNDLE` or `SSL_CERT_FILE` (the variables Hugging Face's Python tools honour).
 */
export function hubSettings(
  env: NodeJS.ProcessEnv = process.env,
  overrides: { endpoint?: string; token?: string } = {}
): HubSettings {
  const endpoint = (overrides.endpoint ?? env.HF_ENDPOINT ?? DEFAULT_ENDPOINT).trim().replace(/\/+$/, '')
  const token = overrides.token ?? env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN
  const bundle = env.REQUESTS_CA_BUNDLE || env.SSL_CERT_FILE
  let ca: string[] | undefined
  if (bundle) {
    try {
      ca = [...rootCertificates, readFileSync(bundle, 'utf8')]
    } catch (e) {
      throw new HubError(
        'network',
        `cannot read the CA bundle ${bundle} (from ${env.REQUESTS_CA_BUNDLE ? 'REQUESTS_CA_BUNDLE' : 'SSL_CERT_FILE'}): ${(e as Error).message}`,
        { cause: e }
      )
    }
  }
  return { endpoint, token: token && token.trim() !== '' ? token.trim() : undefined, env, ...(ca ? { ca } : {}) }
}

export interface RepoFile {
  /** Path inside the repository ("layer_4/ae.pt"). */
  path: string
  size: number
  /** sha256 of an LFS file's content, as the hub publishes it. */
  lfsSha256?: string
  /** git blob sha1 of a regular (non-LFS) file. */
  blobId?: string
}

export interface RepoListing {
  repo: string
  /** The revision asked for (branch, tag or commit). */
  revision: string
  /** The commit sha it resolved to. */
  sha: string
  files: RepoFile[]
}

export function encodeRepo(repo: string): string {
  return repo.split('/').map(encodeURIComponent).join('/')
}

export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/')
}

export function authHeaders(settings: HubSettings): Record<string, string> {
  return settings.token ? { Authorization: `Bearer ${settings.token}` } : {}
}

function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()]
  return Array.isArray(v) ? v[0] : v
}

/** Turns a non-2xx hub answer into a HubError that says what to do. Consumes the body. */
export async function hubFailure(
  res: HttpResponse,
  ctx: { repo: string; revision: string; file?: string; settings: HubSettings }
): Promise<HubError> {
  const body = await readText(res, 1 << 20).then(
    t => t.slice(0, 500),
    () => ''
  )
  const code = header(res, 'x-error-code')
  const serverMessage = header(res, 'x-error-message') ?? /"error"\s*:\s*"([^"]*)"/.exec(body)?.[1] ?? body.trim()
  const where = `${ctx.repo}${ctx.file ? `/${ctx.file}` : ''} at revision "${ctx.revision}" on ${ctx.settings.endpoint}`
  const tokenAdvice = ctx.settings.token
    ? 'the token in HF_TOKEN does not give access to it'
    : 'no token was given: set HF_TOKEN to a Hugging Face access token (https://huggingface.co/settings/tokens)'
  if (code === 'GatedRepo' || (res.status === 403 && /gated/i.test(serverMessage))) {
    return new HubError(
      'gated',
      `${ctx.repo} is a gated repository: accept its conditions on ${ctx.settings.endpoint}/${ctx.repo} while logged in, then ${ctx.settings.token ? 'retry (HF_TOKEN must belong to the account that accepted)' : 'set HF_TOKEN to an access token of that account and retry'} (hub: ${serverMessage || res.status})`
    )
  }
  if (code === 'RepoNotFound' || (res.status === 404 && !code && !ctx.file)) {
    return new HubError(
      'repo-not-found',
      `repository "${ctx.repo}" was not found on ${ctx.settings.endpoint}: check the id (owner/name, case-sensitive); if it is private, ${tokenAdvice}`
    )
  }
  if (code === 'RevisionNotFound')
    return new HubError(
      'revision-not-found',
      `revision "${ctx.revision}" does not exist in ${ctx.repo} (give a branch, tag or commit sha that exists)`
    )
  if (code === 'EntryNotFound' || (res.status === 404 && ctx.file))
    return new HubError('entry-not-found', `file not found: ${where}`)
  if (res.status === 401 || res.status === 403) {
    return new HubError(
      'unauthorized',
      `access to ${where} was refused (HTTP ${res.status}): ${tokenAdvice}${serverMessage ? ` (hub: ${serverMessage})` : ''}`
    )
  }
  return new HubError(
    'http',
    `the hub answered HTTP ${res.status} for ${where}${serverMessage ? `: ${serverMessage}` : ''}; try again later`
  )
}

interface Sibling {
  rfilename: string
  size?: number
  blobId?: string
  lfs?: { sha256?: string; size?: number }
}

interface TreeEntry {
  type: string
  path: string
  size?: number
  oid?: string
  lfs?: { oid?: string; sha256?: string; size?: number }
}

function getOptions(settings: HubSettings, signal?: AbortSignal): HttpGetOptions {
  return {
    env: settings.env,
    signal,
    ca: settings.ca,
    authHeaders: authHeaders(settings),
    headers: { Accept: 'application/json' }
  }
}

async function getJson(
  url: string,
  ctx: { repo: string; revision: string; settings: HubSettings },
  signal?: AbortSignal
): Promise<{ json: unknown; res: HttpResponse }> {
  const res = await httpGet(url, getOptions(ctx.settings, signal))
  if (res.status < 200 || res.status >= 300) throw await hubFailure(res, ctx)
  const text = await readText(res)
  try {
    return { json: JSON.parse(text), res }
  } catch (e) {
    throw new HubError(
      'http',
      `${url} did not answer JSON (is HF_ENDPOINT=${ctx.settings.endpoint} a Hugging Face hub?)`,
      { cause: e }
    )
  }
}

/** Lists a repository's files at a revision, with sizes and LFS sha256s. */
export async function listRepoFiles(
  repo: string,
  revision: string,
  settings: HubSettings,
  signal?: AbortSignal
): Promise<RepoListing> {
  const ctx = { repo, revision, settings }
  const { json, res } = await getJson(
    `${settings.endpoint}/api/models/${encodeRepo(repo)}/revision/${encodeURIComponent(revision)}?blobs=true`,
    ctx,
    signal
  )
  const info = json as { sha?: string; siblings?: Sibling[] }
  const sha = info.sha ?? header(res, 'x-repo-commit')
  if (!sha) throw new HubError('http', `the hub's answer for ${repo}@${revision} has no commit sha`)
  let files: RepoFile[]
  const siblings = info.siblings ?? []
  if (siblings.length > 0 && siblings.every(s => typeof s.size === 'number')) {
    files = siblings.map(s => ({
      path: s.rfilename,
      size: s.size as number,
      lfsSha256: s.lfs?.sha256,
      blobId: s.blobId
    }))
  } else {
    // Older or mirror endpoints omit sizes: the tree API has them.
    const tree = (
      await getJson(
        `${settings.endpoint}/api/models/${encodeRepo(repo)}/tree/${encodeURIComponent(sha)}?recursive=true`,
        ctx,
        signal
      )
    ).json as TreeEntry[]
    files = tree
      .filter(t => t.type === 'file')
      .map(t => ({
        path: t.path,
        size: t.lfs?.size ?? t.size ?? 0,
        lfsSha256: t.lfs?.sha256 ?? t.lfs?.oid,
        blobId: t.lfs ? undefined : t.oid
      }))
  }
  for (const f of files) {
    if (f.path.startsWith('/') || f.path.split('/').some(p => p === '..' || p === ''))
      throw new HubError('http', `the hub listed an unsafe file path "${f.path}" in ${repo}`)
  }
  return { repo, revision, sha, files }
}
