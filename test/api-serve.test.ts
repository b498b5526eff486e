/**
 * Browser mode's HTTP server (`plm-sae serve`): binds 127.0.0.1 by default, refuses other addresses without an
 * access token, checks the token (Bearer header, ?token= once → cookie), validates every API request, serves
 * only files of the renderer folder, and streams job events. Real server, real service, real sockets on loopback.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../src/main/cli/plm-sae'
import {
  bodyLimit,
  MAX_BODY_BYTES,
  redactPaths,
  startHttpServer,
  type RunningHttpServer
} from '../src/main/workbench/http-server'
import { dispatch } from '../src/main/workbench/dispatch'
import { ClientError, ConflictError } from '../src/main/workbench/errors'
import { MAX_PASTED_SEQUENCE_RESIDUES, sequenceFromText } from '../src/main/workbench/pasted-sequences'
import { SequenceError } from '../src/main/engine/esm/alphabet'
import { NotInStoreError } from '../src/main/engine/store/latent-store'
import { StoreBusyError } from '../src/main/engine/store/store-lock'
import type { WorkbenchApi } from '../src/shared/api'
import { WorkbenchService } from '../src/main/workbench/service'
import { tempDir } from './helpers/tmp'

interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** A raw HTTP request to 127.0.0.1 (raw so that Host and the path are sent exactly as given). */
function send(
  port: number,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: string }
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers },
      res => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') })
        )
      }
    )
    req.on('error', reject)
    if (opts.body !== undefined) req.write(opts.body)
    req.end()
  })
}

const json = { 'content-type': 'application/json' }
const TOKEN = 'k7F2-test-token-0123456789abcdef'

let tmp: { dir: string; cleanup: () => void }
let service: WorkbenchService
let staticDir: string

beforeAll(() => {
  tmp = tempDir('serve')
  staticDir = join(tmp.dir, 'renderer')
  mkdirSync(join(staticDir, 'assets'), { recursive: true })
  writeFileSync(
    join(staticDir, 'index.html'),
    '<!doctype html><title>workbench</title><script type="module" src="./assets/app.js"></script>'
  )
  writeFileSync(join(staticDir, 'assets', 'app.js'), 'console.log("app")')
  writeFileSync(
    join(staticDir, 'assets', 'big.js'),
    `export const table = ${JSON.stringify(Array.from({ length: 4000 }, (_, i) => ({ feature: i, label: `f${i}` })))}\n`
  )
  writeFileSync(join(tmp.dir, 'secret.txt'), 'outside the renderer folder')
  service = new WorkbenchService({
    mode: 'browser',
    dataDir: join(tmp.dir, 'data'),
    resourcesDir: join(__dirname, '..', 'resources'),
    firstRunDemo: false
  })
})

afterAll(async () => {
  await service.close()
  tmp.cleanup()
})

describe('plm-sae serve on loopback (no token)', () => {
  let server: RunningHttpServer
  beforeAll(async () => {
    server = await startHttpServer({ api: service, staticDir, port: 0 })
  })
  afterAll(() => server.close())

  it('binds 127.0.0.1 by default', () => {
    expect(server.host).toBe('127.0.0.1')
    expect(server.server.address()).toMatchObject({ address: '127.0.0.1' })
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`)
  })

  it('serves the renderer with a strict Content-Security-Policy', async () => {
    const r = await send(server.port, { path: '/', headers: { host: `127.0.0.1:${server.port}` } })
    expect(r.status).toBe(200)
    expect(r.body).toContain('<title>workbench</title>')
    expect(r.headers['content-security-policy']).toMatch(/default-src 'self'; script-src 'self'/)
    expect(r.headers['x-content-type-options']).toBe('nosniff')
    const js = await send(server.port, { path: '/assets/app.js', headers: { host: 'localhost' } })
    expect(js.status).toBe(200)
    expect(js.headers['content-type']).toMatch(/^text\/javascript/)
  })

  it('compresses large assets for clients that accept gzip', async () => {
    const plain = await send(server.port, { path: '/assets/big.js', headers: { host: 'localhost' } })
    expect(plain.headers['content-encoding']).toBeUndefined()
    const zipped = await new Promise<{ encoding?: string; body: Buffer }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: server.port,
          path: '/assets/big.js',
          headers: { host: 'localhost', 'accept-encoding': 'gzip, deflate' }
        },
        res => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }))
        }
      )
      req.on('error', reject)
      req.end()
    })
    expect(zipped.encoding).toBe('gzip')
    expect(zipped.body.length).toBeLessThan(plain.body.length / 3)
    expect(gunzipSync(zipped.body).toString('utf8')).toBe(plain.body)
  })

  it('never serves files outside the renderer folder', async () => {
    for (const path of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/%2e%2e%5csecret.txt'
    ]) {
      const r = await send(server.port, { path, headers: { host: 'localhost' } })
      expect(r.body, path).not.toContain('outside the renderer folder')
    }
  })

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    const r = await send(server.port, { path: '/', headers: { host: 'evil.example:80' } })
    expect(r.status).toBe(403)
  })

  it('answers valid API calls and rejects invalid ones with the field named', async () => {
    const ok = await send(server.port, {
      method: 'POST',
      path: '/api/listProjects',
      headers: { ...json, host: 'localhost' },
      body: '{}'
    })
    expect(ok.status).toBe(200)
    expect(JSON.parse(ok.body)).toEqual([])
    const models = await send(server.port, {
      method: 'POST',
      path: '/api/listModels',
      headers: { ...json, host: 'localhost' },
      body: '{}'
    })
    expect((JSON.parse(models.body) as { id: string }[]).map(m => m.id)).toContain('demo:esm2')

    const bad = await send(server.port, {
      method: 'POST',
      path: '/api/featureDetail',
      headers: { ...json, host: 'localhost' },
      body: '{"projectId":"demo","feature":"x"}'
    })
    expect(bad.status).toBe(400)
    expect(JSON.parse(bad.body)).toEqual({
      error: { kind: 'invalid-request', message: expect.stringMatching(/request\.feature: expected a whole number/) }
    })

    const unknown = await send(server.port, {
      method: 'POST',
      path: '/api/deleteEverything',
      headers: { ...json, host: 'localhost' },
      body: '{}'
    })
    expect(unknown.status).toBe(400)
    expect(unknown.body).toMatch(/unknown API method/)

    const notJson = await send(server.port, {
      method: 'POST',
      path: '/api/listProjects',
      headers: { 'content-type': 'text/plain', host: 'localhost' },
      body: '{}'
    })
    expect(notJson.status).toBe(415)

    const broken = await send(server.port, {
      method: 'POST',
      path: '/api/listProjects',
      headers: { ...json, host: 'localhost' },
      body: '{not json'
    })
    expect(broken.status).toBe(400)

    const get = await send(server.port, { path: '/api/listProjects', headers: { host: 'localhost' } })
    expect(get.status).toBe(405)

    const cross = await send(server.port, {
      method: 'POST',
      path: '/api/listProjects',
      headers: { ...json, host: 'localhost', origin: 'http://evil.example' },
      body: '{}'
    })
    expect(cross.status).toBe(403)

    const missing = await send(server.port, {
      method: 'POST',
      path: '/api/openProject',
      headers: { ...json, host: 'localhost' },
      body: '{"projectId":"nope"}'
    })
    expect(missing.status).toBe(404)
    expect(JSON.parse(missing.body).error.message).toMatch(/no project "nope"/)
  })

  it('streams job events as server-sent events', async () => {
    const events: string[] = []
    const done = new Promise<void>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: server.port, path: '/api/events', headers: { host: 'localhost' } },
        res => {
          expect(res.headers['content-type']).toMatch(/^text\/event-stream/)
          res.setEncoding('utf8')
          res.on('data', (chunk: string) => {
            events.push(chunk)
            if (chunk.includes('"state":"done"')) {
              req.destroy()
              resolve()
            }
          })
          // Once connected, run a real (inline) job that reports progress and ends.
          service.jobs.startInline(
            { kind: 'download', title: 'event test' },
            { phase: 'start', done: 0, total: 2, unit: 'steps' },
            async ctx => {
              ctx.progress({ phase: 'half', done: 1, total: 2, unit: 'steps' })
              return null
            }
          )
        }
      )
      req.on('error', reject)
      req.end()
    })
    await done
    const all = events.join('')
    expect(all).toMatch(/event: job\ndata: \{"job":\{.*"title":"event test".*"state":"running"/)
    expect(all).toMatch(/"state":"done"/)
  })
})

describe('plm-sae serve on another address', () => {
  it('refuses to listen without an access token', async () => {
    await expect(startHttpServer({ api: service, staticDir, host: '0.0.0.0', port: 0 })).rejects.toThrow(
      /needs an access token.*--token/
    )
    await expect(
      startHttpServer({ api: service, staticDir, host: '0.0.0.0', port: 0, token: 'short' })
    ).rejects.toThrow(/at least 16 characters/)
  })

  it('the CLI refuses too, before starting anything', async () => {
    const errors: string[] = []
    const write = process.stderr.write.bind(process.stderr)
    process.stderr.write = ((s: string) => {
      errors.push(String(s))
      return true
    }) as typeof process.stderr.write
    try {
      const code = await main([
        'serve',
        '--host',
        '0.0.0.0',
        '--no-token',
        '--port',
        '0',
        '--static-dir',
        staticDir,
        '--data-dir',
        join(tmp.dir, 'cli-data')
      ])
      expect(code).toBe(1)
    } finally {
      process.stderr.write = write
    }
    expect(errors.join('')).toMatch(/access token is required: drop --no-token/)
  })

  it('with a token: refuses requests without it, accepts Bearer, and ?token= once then a cookie', async () => {
    const server = await startHttpServer({ api: service, staticDir, host: '0.0.0.0', port: 0, token: TOKEN })
    try {
      expect(server.server.address()).toMatchObject({ address: '0.0.0.0' })
      expect(server.url).toContain(`?token=${TOKEN}`)
      const host = { host: `workstation.lan:${server.port}` }
      const anon = await send(server.port, { path: '/', headers: host })
      expect(anon.status).toBe(401)
      const anonApi = await send(server.port, {
        method: 'POST',
        path: '/api/listProjects',
        headers: { ...json, ...host },
        body: '{}'
      })
      expect(anonApi.status).toBe(401)
      const wrong = await send(server.port, {
        method: 'POST',
        path: '/api/listProjects',
        headers: { ...json, ...host, authorization: `Bearer ${TOKEN}x` },
        body: '{}'
      })
      expect(wrong.status).toBe(401)
      const events = await send(server.port, { path: '/api/events', headers: host })
      expect(events.status).toBe(401)

      const bearer = await send(server.port, {
        method: 'POST',
        path: '/api/listProjects',
        headers: { ...json, ...host, authorization: `Bearer ${TOKEN}` },
        body: '{}'
      })
      expect(bearer.status).toBe(200)

      const wrongQuery = await send(server.port, { path: `/?token=${TOKEN.slice(1)}`, headers: host })
      expect(wrongQuery.status).toBe(401)
      const login = await send(server.port, { path: `/?token=${encodeURIComponent(TOKEN)}`, headers: host })
      expect(login.status).toBe(303)
      expect(login.headers.location).toBe('/')
      const cookie = String(login.headers['set-cookie'])
      expect(cookie).toMatch(/HttpOnly/)
      expect(cookie).toMatch(/SameSite=Strict/)
      const page = await send(server.port, { path: '/', headers: { ...host, cookie: cookie.split(';')[0] } })
      expect(page.status).toBe(200)
      expect(page.body).toContain('<title>workbench</title>')
    } finally {
      await server.close()
    }
  })
})

describe('hostile clients (issue 17)', () => {
  let server: RunningHttpServer
  beforeAll(async () => {
    server = await startHttpServer({ api: service, staticDir, port: 0 })
  })
  afterAll(() => server.close())
  const api = (method: string, body: string, headers: Record<string, string> = {}): Promise<Reply> =>
    send(server.port, {
      method: 'POST',
      path: `/api/${method}`,
      headers: { ...json, host: 'localhost', ...headers },
      body
    })

  it('refuses an opaque Origin "null" and a malformed Origin with 403, not 500', async () => {
    const nul = await api('listProjects', '{}', { origin: 'null' })
    expect(nul.status).toBe(403)
    expect(JSON.parse(nul.body).error.message).toMatch(/Cross-origin API calls are not allowed/)
    expect((await api('listProjects', '{}', { origin: 'not a url' })).status).toBe(403)
    expect((await api('listProjects', '{}', { origin: 'http://localhost:1' })).status).toBe(403) // another port is another origin
    expect((await api('listProjects', '{}', { origin: 'http://localhost' })).status).toBe(200) // the page's own origin
  })

  it("answers a body over the method's limit with 413 and a message, declared or streamed", async () => {
    expect(bodyLimit('listProjects')).toBe(MAX_BODY_BYTES)
    expect(bodyLimit('createProject')).toBeGreaterThan(64 << 20)
    const big = `{"x":"${'a'.repeat(MAX_BODY_BYTES)}"}`
    const declared = await api('listProjects', big)
    expect(declared.status).toBe(413)
    expect(JSON.parse(declared.body)).toEqual({
      error: {
        kind: 'invalid-request',
        message: 'The request body is larger than 1 MiB, the most listProjects accepts.'
      }
    })
    // chunked (no Content-Length): the server stops keeping it once past the limit and still answers 413
    const streamed = await new Promise<Reply>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: server.port,
          method: 'POST',
          path: '/api/listProjects',
          headers: { ...json, host: 'localhost', 'transfer-encoding': 'chunked' }
        },
        res => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') })
          )
        }
      )
      req.on('error', reject)
      const piece = 'a'.repeat(256 << 10)
      for (let i = 0; i < 8; i++) req.write(piece)
      req.end()
    })
    expect(streamed.status).toBe(413)
    expect(JSON.parse(streamed.body).error.message).toMatch(/larger than 1 MiB/)
    // the server still answers afterwards
    expect((await api('listProjects', '{}')).status).toBe(200)
  })

  it('maps client errors to 4xx: bad input 400, missing things 404, conflicts 409; only server faults are 500', async () => {
    const throwing = (e: Error): WorkbenchApi =>
      ({ listProjects: async () => Promise.reject(e) }) as unknown as WorkbenchApi
    const cases: [Error, number][] = [
      [new ClientError('bad'), 400],
      [new SequenceError('bad residue', 'x'), 400],
      [new NotInStoreError('no run 9'), 404],
      [new ConflictError('in use'), 409],
      [new StoreBusyError('being indexed', { pid: 1, host: 'h', command: 'c', since: 't', owner: 'o' }), 409],
      [new Error('disk broke'), 500]
    ]
    for (const [e, status] of cases)
      expect(await dispatch(throwing(e), 'listProjects', {}), e.name).toMatchObject({ ok: false, status })
    // through the server: a project without records, models that are not ready, an unknown job
    const noRecords = await api(
      'createProject',
      JSON.stringify({
        name: 'x',
        source: { kind: 'fasta', text: 'no records here' },
        modelId: 'demo:esm2',
        saeId: 'demo:sae',
        index: false
      })
    )
    expect(noRecords.status).toBeGreaterThanOrEqual(400)
    expect(noRecords.status).toBeLessThan(500)
    const job = await api('cancelJob', '{"jobId":"nope"}')
    expect([400, 404]).toContain(job.status)
  })

  it('caps live queries: a longer sequence is a 400 that says to index it as a job', () => {
    expect(sequenceFromText('MKV'.repeat(3000), MAX_PASTED_SEQUENCE_RESIDUES)).toHaveLength(9000)
    expect(() => sequenceFromText('A'.repeat(MAX_PASTED_SEQUENCE_RESIDUES + 1), MAX_PASTED_SEQUENCE_RESIDUES)).toThrow(
      ClientError
    )
    expect(() => sequenceFromText('A'.repeat(MAX_PASTED_SEQUENCE_RESIDUES + 1), MAX_PASTED_SEQUENCE_RESIDUES)).toThrow(
      /at most 10000 can be analysed live\. Index a longer one as a job/
    )
  })

  it('names no absolute server path in messages to the browser', async () => {
    expect(redactPaths('/home/ana/.local/share/plm-sae/projects/p1/project.sqlite: not a PLM-SAE store')).toBe(
      '…/project.sqlite: not a PLM-SAE store'
    )
    expect(redactPaths('cannot read "/srv/data/in.fasta" (see http://127.0.0.1:8765/api/x and a/b)')).toBe(
      'cannot read "…/in.fasta" (see http://127.0.0.1:8765/api/x and a/b)'
    )
    expect(redactPaths('C:\\Users\\ana\\AppData\\store.sqlite is locked')).toBe('…\\store.sqlite is locked')
    // a real error that carries the data folder's path
    const dataDir = join(tmp.dir, 'data')
    const e = new Error(`${join(dataDir, 'projects', 'p', 'project.sqlite')}: the store has no indexing runs yet`)
    const failing = {
      listProjects: async () => Promise.reject(e),
      onJobEvent: () => () => undefined
    } as unknown as WorkbenchApi
    const s2 = await startHttpServer({ api: failing, staticDir, port: 0 })
    try {
      const r = await send(s2.port, {
        method: 'POST',
        path: '/api/listProjects',
        headers: { ...json, host: 'localhost' },
        body: '{}'
      })
      expect(r.status).toBe(500)
      expect(r.body).not.toContain(tmp.dir)
      expect(JSON.parse(r.body).error.message).toBe('…/project.sqlite: the store has no indexing runs yet')
    } finally {
      await s2.close()
    }
  })
})

describe('large answers', () => {
  it('are gzip-compressed off the request thread and arrive whole', async () => {
    const big = Array.from({ length: 40_000 }, (_, i) => ({ id: `p${i}`, name: `protein ${i}`, value: i / 7 }))
    const fake = { listProjects: async () => big, onJobEvent: () => () => undefined } as unknown as WorkbenchApi
    const s2 = await startHttpServer({ api: fake, staticDir, port: 0 })
    try {
      const r = await new Promise<{ encoding?: string; body: Buffer }>((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port: s2.port,
            method: 'POST',
            path: '/api/listProjects',
            headers: { ...json, host: 'localhost', 'accept-encoding': 'gzip' }
          },
          res => {
            const chunks: Buffer[] = []
            res.on('data', (c: Buffer) => chunks.push(c))
            res.on('end', () => resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }))
          }
        )
        req.on('error', reject)
        req.end('{}')
      })
      expect(r.encoding).toBe('gzip')
      expect(JSON.parse(gunzipSync(r.body).toString('utf8'))).toEqual(big)
    } finally {
      await s2.close()
    }
  })
})

describe('plm-sae serve defaults to an access token', () => {
  it('generates one, prints it with the address, and refuses requests without it', async () => {
    let out = ''
    const write = process.stdout.write.bind(process.stdout)
    const errWrite = process.stderr.write.bind(process.stderr)
    process.stdout.write = ((s: string) => ((out += String(s)), true)) as typeof process.stdout.write
    process.stderr.write = (() => true) as typeof process.stderr.write
    const saved = process.env.PLM_SAE_TOKEN
    delete process.env.PLM_SAE_TOKEN
    try {
      const running = main([
        'serve',
        '--port',
        '0',
        '--no-demo',
        '--static-dir',
        staticDir,
        '--data-dir',
        join(tmp.dir, 'token-data')
      ])
      const end = Date.now() + 60_000
      while (!/serving on (\S+)/.test(out) && Date.now() < end) await new Promise(r => setTimeout(r, 20))
      const url = new URL(/serving on (\S+)/.exec(out)![1])
      const token = url.searchParams.get('token')
      expect(token).toMatch(/^[\w-]{32}$/)
      const port = Number(url.port)
      expect(
        (
          await send(port, {
            method: 'POST',
            path: '/api/listProjects',
            headers: { ...json, host: 'localhost' },
            body: '{}'
          })
        ).status
      ).toBe(401)
      expect(
        (
          await send(port, {
            method: 'POST',
            path: '/api/listProjects',
            headers: { ...json, host: 'localhost', authorization: `Bearer ${token}` },
            body: '{}'
          })
        ).status
      ).toBe(200)
      const login = await send(port, { path: `/?token=${token}`, headers: { host: 'localhost' } })
      expect(login.status).toBe(303)
      expect(String(login.headers['set-cookie'])).toMatch(/HttpOnly/)
      process.emit('SIGINT')
      expect(await running).toBe(0)
    } finally {
      process.stdout.write = write
      process.stderr.write = errWrite
      if (saved !== undefined) process.env.PLM_SAE_TOKEN = saved
    }
  })
})
