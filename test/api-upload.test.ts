/**
 * Browser mode's folder upload: `PUT /upload/<uploadId>/<path>` (http-server.ts, model-uploads.ts) and
 * `addUploadedModel` (service.ts → ModelLibrary.addUploaded). Real server, real service, real sockets on loopback,
 * a random-weight ESM2 folder written by the checkpoint fixture.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHttpServer, type RunningHttpServer } from '../src/main/workbench/http-server'
import { ModelUploads } from '../src/main/workbench/model-uploads'
import { WorkbenchService } from '../src/main/workbench/service'
import { uploadPathProblem } from '../src/shared/library-types'
import { writeHfCheckpoint } from './fixtures/esm2-checkpoint'
import { writeInterplmSae } from './fixtures/sae-checkpoints'
import { tempDir } from './helpers/tmp'

interface Reply {
  status: number
  body: string
}

function send(
  port: number,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: Buffer | string }
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method: opts.method ?? 'PUT', path: opts.path, headers: opts.headers },
      res => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }))
      }
    )
    req.on('error', reject)
    if (opts.body !== undefined) req.write(opts.body)
    req.end()
  })
}

const TOKEN = 'k7F2-upload-token-0123456789abcdef'
const auth = { authorization: `Bearer ${TOKEN}` }

let tmp: { dir: string; cleanup: () => void }
let service: WorkbenchService
let server: RunningHttpServer
let checkpoint: string

function put(uploadId: string, path: string, data: Buffer | string, headers: Record<string, string> = auth) {
  const body = typeof data === 'string' ? Buffer.from(data) : data
  return send(server.port, {
    path: `/upload/${uploadId}/${path}`,
    headers: { ...headers, 'content-length': String(body.length) },
    body
  })
}

function callApi(method: string, body: unknown): Promise<Reply> {
  return send(server.port, {
    method: 'POST',
    path: `/api/${method}`,
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify(body)
  })
}

/** Uploads every file of `dir` under `uploadId`. */
async function uploadFolder(uploadId: string, dir: string): Promise<void> {
  for (const name of readdirSync(dir)) {
    const reply = await put(uploadId, name, readFileSync(join(dir, name)))
    expect(reply.status, reply.body).toBe(200)
  }
}

beforeAll(async () => {
  tmp = tempDir('upload')
  const staticDir = join(tmp.dir, 'renderer')
  mkdirSync(staticDir, { recursive: true })
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>workbench</title>')
  checkpoint = join(tmp.dir, 'esm2-tiny')
  writeHfCheckpoint(checkpoint, 'tiny', 7)
  service = new WorkbenchService({
    mode: 'browser',
    dataDir: join(tmp.dir, 'data'),
    resourcesDir: join(__dirname, '..', 'resources'),
    firstRunDemo: false
  })
  server = await startHttpServer({ api: service, uploads: service.uploads, staticDir, port: 0, token: TOKEN })
})

afterAll(async () => {
  await server.close()
  await service.close()
  tmp.cleanup()
})

describe('the upload path rule', () => {
  it('accepts the file names of model and SAE folders, refuses the rest', () => {
    for (const ok of ['config.json', 'model.safetensors', 'pytorch_model.bin', 'layer_4/ae_normalized.pt', 'cfg.json'])
      expect(uploadPathProblem(ok), ok).toBeUndefined()
    for (const bad of ['../config.json', 'a/../config.json', '/etc/passwd', 'a\\config.json', 'run.sh', 'x//y.pt'])
      expect(uploadPathProblem(bad), bad).toBeDefined()
  })
})

describe('PUT /upload and addUploadedModel', () => {
  it('uploads an ESM2 folder and adds it as a ready library entry', async () => {
    await uploadFolder('upload-ok-0001', checkpoint)
    const reply = await callApi('addUploadedModel', { uploadId: 'upload-ok-0001', kind: 'esm2', name: '../my esm2' })
    expect(reply.status, reply.body).toBe(200)
    const entry = JSON.parse(reply.body) as { id: string; status: string; source: { kind: string }; name: string }
    // the name is shown as given; the folder and the id are made of safe characters (removable by id)
    expect(entry).toMatchObject({ status: 'ready', source: { kind: 'upload' }, name: '../my esm2' })
    expect(entry.id).toBe('upload:my_esm2-upload-ok-0001')
    const listed = service.models.list().find(m => m.id === entry.id)
    expect(listed?.status).toBe('ready')
    expect(readFileSync(join(listed!.localPath!, 'config.json'))).toEqual(readFileSync(join(checkpoint, 'config.json')))
    expect(existsSync(join(service.uploads.incomingRoot, 'upload-ok-0001'))).toBe(false)
    // removing the entry deletes the uploaded files (they are the app's)
    const removed = await callApi('removeModel', { id: entry.id })
    expect(removed.status, removed.body).toBe(200)
    expect(existsSync(listed!.localPath!)).toBe(false)
  })

  it('uploads an InterPLM SAE folder: format detected, layer as given', async () => {
    const root = join(tmp.dir, 'interplm')
    writeInterplmSae(root, 4, { dIn: 16, dSae: 32 }, 3, { normalized: true })
    await uploadFolder('upload-sae-0001', join(root, 'layer_4'))
    const reply = await callApi('addUploadedModel', {
      uploadId: 'upload-sae-0001',
      kind: 'sae',
      name: 'layer_4',
      layer: 4
    })
    expect(reply.status, reply.body).toBe(200)
    expect(JSON.parse(reply.body)).toMatchObject({ kind: 'sae', saeFormat: 'interplm', layer: 4, status: 'ready' })
  })

  it('refuses a path with ".." (also percent-encoded) with 400 and writes nothing', async () => {
    for (const path of ['..%2Fescape.json', 'a/..%2F..%2Fconfig.json', '%2E%2E/config.json', 'a%5Cconfig.json']) {
      const reply = await put('upload-dots-001', path, '{}')
      expect(reply.status, path).toBe(400)
    }
    expect(existsSync(join(service.uploads.incomingRoot, 'upload-dots-001'))).toBe(false)
    expect(existsSync(join(service.models.library.uploadsRoot, 'escape.json'))).toBe(false)
  })

  it('refuses a file that is not part of a model folder, and a bad upload id', async () => {
    expect((await put('upload-sh-0001', 'run.sh', 'echo')).status).toBe(400)
    expect((await put('bad.id', 'config.json', '{}')).status).toBe(400)
  })

  it('refuses an upload without the token (401) and from another origin (403)', async () => {
    const noToken = await put('upload-auth-01', 'config.json', '{}', {})
    expect(noToken.status).toBe(401)
    const wrong = await put('upload-auth-01', 'config.json', '{}', { authorization: 'Bearer wrong-token-0123456789' })
    expect(wrong.status).toBe(401)
    const cross = await put('upload-auth-01', 'config.json', '{}', { ...auth, origin: 'http://evil.example' })
    expect(cross.status).toBe(403)
    expect(existsSync(join(service.uploads.incomingRoot, 'upload-auth-01'))).toBe(false)
  })

  it('refuses an oversize file (declared, or over the limit of the server) with 413', async () => {
    const declared = await send(server.port, {
      path: '/upload/upload-big-0001/model.safetensors',
      headers: { ...auth, 'content-length': String(service.uploads.maxFileBytes + 1) }
    }).catch(() => ({ status: 413, body: '' }))
    expect(declared.status).toBe(413)
    const small = await startHttpServer({
      api: service,
      uploads: new ModelUploads(service.models.library.uploadsRoot, 100),
      staticDir: join(tmp.dir, 'renderer'),
      port: 0,
      token: TOKEN
    })
    try {
      const body = Buffer.alloc(101, 1)
      const reply = await send(small.port, {
        path: '/upload/upload-big-0002/model.safetensors',
        headers: { ...auth, 'content-length': String(body.length) },
        body
      }).catch(() => ({ status: 413, body: '' }))
      expect(reply.status).toBe(413)
      const fits = await send(small.port, {
        path: '/upload/upload-big-0002/config.json',
        headers: { ...auth, 'content-length': '100' },
        body: Buffer.alloc(100, 32)
      })
      expect(fits.status, fits.body).toBe(200)
    } finally {
      await small.close()
    }
    expect(existsSync(join(service.uploads.incomingRoot, 'upload-big-0002', 'model.safetensors'))).toBe(false)
  })

  it('a failed registration (not a model folder) leaves no folder behind', async () => {
    const before = readdirSync(service.models.library.uploadsRoot).filter(n => n !== '.incoming')
    expect((await put('upload-fail-001', 'config.json', '{"num_hidden_layers": 2}')).status).toBe(200)
    const reply = await callApi('addUploadedModel', { uploadId: 'upload-fail-001', kind: 'esm2' })
    expect(reply.status).toBe(400)
    expect(reply.body).toMatch(/not added.*lacks/)
    expect(existsSync(join(service.uploads.incomingRoot, 'upload-fail-001'))).toBe(false)
    expect(readdirSync(service.models.library.uploadsRoot).filter(n => n !== '.incoming')).toEqual(before)
    expect(service.models.list().some(m => m.id.includes('upload-fail-001'))).toBe(false)
    // registering an upload that never came is a clear 400 too
    const none = await callApi('addUploadedModel', { uploadId: 'upload-none-01', kind: 'esm2' })
    expect(none.status).toBe(400)
    expect(none.body).toMatch(/No files were uploaded/)
  })

  it('unregistered uploads are deleted at the next start', async () => {
    expect((await put('upload-stale-01', 'config.json', '{}')).status).toBe(200)
    expect(existsSync(join(service.uploads.incomingRoot, 'upload-stale-01'))).toBe(true)
    const next = new WorkbenchService({
      mode: 'browser',
      dataDir: join(tmp.dir, 'data'),
      resourcesDir: join(__dirname, '..', 'resources'),
      firstRunDemo: false
    })
    try {
      expect(existsSync(join(next.uploads.incomingRoot, 'upload-stale-01'))).toBe(false)
    } finally {
      await next.close()
    }
  })

  it('the desktop app refuses addUploadedModel with a clear message', async () => {
    const desktop = new WorkbenchService({
      mode: 'desktop',
      dataDir: join(tmp.dir, 'desktop-data'),
      resourcesDir: join(__dirname, '..', 'resources'),
      firstRunDemo: false
    })
    try {
      await expect(desktop.addUploadedModel({ uploadId: 'upload-desk-01', kind: 'esm2' })).rejects.toThrow(
        /folder dialog/
      )
    } finally {
      await desktop.close()
    }
  })
})
