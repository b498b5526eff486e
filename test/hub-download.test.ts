import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer, request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { fetchRepo, type HubProgress } from '../src/main/engine/hub/hub-download'
import { hubSettings } from '../src/main/engine/hub/hub-api'
import { HubError } from '../src/main/engine/hub/hub-errors'
import { RepoCache } from '../src/main/engine/hub/hub-cache'
import { bypassesProxy, proxyFor } from '../src/main/engine/hub/http-client'
import { filesFromFolder, startFakeHub, type FakeHub } from './fixtures/fake-hub'
import { writeHfCheckpoint } from './fixtures/esm2-checkpoint'
import { tempDir } from './helpers/tmp'

const REPO = 'facebook/esm2_tiny_test'

let hub: FakeHub
let work: { dir: string; cleanup: () => void }
let checkpointDir: string

async function closedPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>(r => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as AddressInfo).port
  await new Promise<void>(r => s.close(() => r()))
  return port
}

function settingsFor(endpoint: string, token?: string) {
  return hubSettings({ HF_ENDPOINT: endpoint, ...(token ? { HF_TOKEN: token } : {}) })
}

async function caught(p: Promise<unknown>): Promise<HubError> {
  try {
    await p
  } catch (e) {
    expect(e).toBeInstanceOf(HubError)
    return e as HubError
  }
  throw new Error('expected the call to fail')
}

let cacheN = 0
function freshCache(): string {
  const d = join(work.dir, `cache-${cacheN++}`)
  mkdirSync(d, { recursive: true })
  return d
}

beforeAll(async () => {
  work = tempDir('hub')
  checkpointDir = join(work.dir, 'checkpoint')
  writeHfCheckpoint(checkpointDir, 'tiny', 7)
  hub = await startFakeHub(['hf_good'])
  hub.addRepo({ id: REPO, files: filesFromFolder(checkpointDir) })
  hub.addRepo({
    id: 'gated-org/secret-sae',
    gated: true,
    files: [
      { path: 'config.json', content: Buffer.from('{"d_in":32}') },
      { path: 'model.safetensors', content: randomBytes(4096) }
    ]
  })
  hub.addRepo({
    id: 'Elana/InterPLM-tiny',
    files: [1, 2, 3].flatMap(l => [
      { path: `layer_${l}/ae_normalized.pt`, content: randomBytes(2000 + l) },
      { path: `layer_${l}/config.yaml`, content: Buffer.from(`layer: ${l}\n`) }
    ])
  })
})

afterAll(async () => {
  await hub.close()
  work.cleanup()
})

describe('hub download', () => {
  it('downloads a whole repository, follows the LFS redirect, verifies and caches it', async () => {
    const cacheRoot = freshCache()
    const events: HubProgress[] = []
    const r = await fetchRepo(REPO, {
      cacheRoot,
      settings: settingsFor(hub.url, 'hf_good'),
      onProgress: p => events.push(p)
    })
    const names = filesFromFolder(checkpointDir)
      .map(f => f.path)
      .sort()
    expect(r.files.map(f => f.path).sort()).toEqual(names)
    for (const f of r.files)
      expect(readFileSync(f.localPath).equals(readFileSync(join(checkpointDir, f.path)))).toBe(true)
    expect(r.files.find(f => f.path === 'model.safetensors')?.lfsSha256).toMatch(/^[0-9a-f]{64}$/)
    // The LFS file came from the CDN after a 302, and the token was not sent there.
    const cdn = hub.requestsTo('/cdn/')
    expect(cdn.length).toBeGreaterThan(0)
    expect(cdn.every(q => q.headers.authorization === undefined)).toBe(true)
    expect(hub.requestsTo(`/${REPO}/resolve/`).every(q => q.headers.authorization === 'Bearer hf_good')).toBe(true)
    // Regular files: the relative redirect to the resolve cache stays on the hub, with the token.
    const cached = hub.requestsTo(`/api/resolve-cache/models/${REPO}/`)
    expect(cached.map(q => q.url.split('/').pop()).sort()).toEqual(names.filter(p => p !== 'model.safetensors'))
    expect(cached.every(q => q.headers.authorization === 'Bearer hf_good')).toBe(true)
    // refs/main → sha; progress ends complete.
    expect(readFileSync(join(cacheRoot, 'facebook--esm2_tiny_test', 'refs', 'main'), 'utf8').trim()).toBe(r.sha)
    expect(r.dir).toBe(join(cacheRoot, 'facebook--esm2_tiny_test', r.sha))
    const last = events[events.length - 1]
    expect(last.phase).toBe('done')
    expect(last.bytesDone).toBe(last.bytesTotal)
    expect(last.bytesTotal).toBe(r.files.reduce((n, f) => n + f.size, 0))
    expect(r.downloadedBytes).toBe(last.bytesTotal)
    expect(last.bytesPerSecond).toBeGreaterThan(0)
    expect(last.etaSeconds).toBe(0)
    expect(events.some(e => e.phase === 'verifying' && e.file === 'model.safetensors')).toBe(true)
    for (let i = 1; i < events.length; i++)
      expect(events[i].bytesDone).toBeGreaterThanOrEqual(
        events[i - 1].phase === 'listing' ? 0 : events[i - 1].bytesDone
      )
    // A second run downloads nothing.
    const before = hub.requestsTo('/cdn/').length
    const again = await fetchRepo(REPO, { cacheRoot, settings: settingsFor(hub.url) })
    expect(again.downloadedBytes).toBe(0)
    expect(hub.requestsTo('/cdn/').length).toBe(before)
  })

  it('resumes with a Range request after the connection is cut mid-file', async () => {
    const cacheRoot = freshCache()
    const size = statSync(join(checkpointDir, 'model.safetensors')).size
    const cutAt = Math.floor(size / 3)
    hub.cutAfter(REPO, 'model.safetensors', cutAt)
    const settings = settingsFor(hub.url)
    const err = await caught(fetchRepo(REPO, { cacheRoot, settings, retries: 0 }))
    expect(err.code).toBe('network')
    expect(err.message).toMatch(/run the download again to resume/)
    const sha = readdirSync(join(cacheRoot, 'facebook--esm2_tiny_test', 'downloads'))[0]
    const cache = new RepoCache(cacheRoot, REPO)
    const partial = cache.partialPath(sha, 'model.safetensors')
    expect(statSync(partial).size).toBe(cutAt)
    expect(existsSync(cache.filePath(sha, 'model.safetensors'))).toBe(false)
    const r = await fetchRepo(REPO, { cacheRoot, settings, retries: 0 })
    const ranged = hub.requestsTo('/cdn/').filter(q => q.headers.range)
    expect(ranged[ranged.length - 1].headers.range).toBe(`bytes=${cutAt}-`)
    const configSize = statSync(join(checkpointDir, 'config.json')).size // listed before the cut file
    expect(r.downloadedBytes).toBe(r.files.reduce((n, f) => n + f.size, 0) - cutAt - configSize)
    expect(
      readFileSync(cache.filePath(sha, 'model.safetensors')).equals(
        readFileSync(join(checkpointDir, 'model.safetensors'))
      )
    ).toBe(true)
    expect(existsSync(partial)).toBe(false)
  })

  it('resumes automatically within one call when retries are allowed', async () => {
    const cacheRoot = freshCache()
    hub.cutAfter(REPO, 'model.safetensors', 1000)
    const r = await fetchRepo(REPO, { cacheRoot, settings: settingsFor(hub.url) })
    const f = r.files.find(x => x.path === 'model.safetensors')!
    expect(readFileSync(f.localPath).equals(readFileSync(join(checkpointDir, 'model.safetensors')))).toBe(true)
  })

  it('rejects a corrupted file and leaves nothing that looks good', async () => {
    const cacheRoot = freshCache()
    hub.corrupt('gated-org/secret-sae', 'model.safetensors')
    const err = await caught(
      fetchRepo('gated-org/secret-sae', { cacheRoot, settings: settingsFor(hub.url, 'hf_good') })
    )
    expect(err.code).toBe('checksum')
    expect(err.message).toMatch(/checksum mismatch for gated-org\/secret-sae\/model.safetensors/)
    const cache = new RepoCache(cacheRoot, 'gated-org/secret-sae')
    const sha = readdirSync(join(cache.dir, 'manifests'))[0].replace('.json', '')
    expect(existsSync(cache.filePath(sha, 'model.safetensors'))).toBe(false)
    expect(existsSync(cache.partialPath(sha, 'model.safetensors'))).toBe(false)
    expect(cache.readRef('main')).toBeUndefined()
    // Offline, the incomplete snapshot is not taken for a good one.
    const off = await caught(
      fetchRepo('gated-org/secret-sae', { cacheRoot, settings: settingsFor(hub.url), offline: true })
    )
    expect(off.code).toBe('offline-missing')
  })

  it('reports an unknown repository (401 anonymous, 404 with a token)', async () => {
    const cacheRoot = freshCache()
    const anon = await caught(fetchRepo('nobody/no-such-model', { cacheRoot, settings: settingsFor(hub.url) }))
    expect(anon.code).toBe('repo-not-found')
    expect(anon.message).toMatch(/"nobody\/no-such-model" was not found/)
    expect(anon.message).toMatch(/HF_TOKEN/)
    const withToken = await caught(
      fetchRepo('nobody/no-such-model', { cacheRoot, settings: settingsFor(hub.url, 'hf_good') })
    )
    expect(withToken.code).toBe('repo-not-found')
    expect(hub.requests.some(q => q.url.includes('no-such-model'))).toBe(true)
  })

  it('explains a gated repository without a token, and downloads it with one', async () => {
    const cacheRoot = freshCache()
    const anon = await caught(
      fetchRepo('gated-org/secret-sae', { cacheRoot, settings: settingsFor(hub.url), include: ['config.json'] })
    )
    expect(anon.code).toBe('gated')
    expect(anon.message).toMatch(/gated repository/)
    expect(anon.message).toMatch(/set HF_TOKEN/)
    const wrong = await caught(
      fetchRepo('gated-org/secret-sae', {
        cacheRoot,
        settings: settingsFor(hub.url, 'hf_wrong'),
        include: ['config.json']
      })
    )
    expect(wrong.code).toBe('gated')
    const r = await fetchRepo('gated-org/secret-sae', {
      cacheRoot,
      settings: settingsFor(hub.url, 'hf_good'),
      include: ['config.json']
    })
    expect(readFileSync(r.files[0].localPath, 'utf8')).toBe('{"d_in":32}')
  })

  it('reports a missing revision, and include patterns that match nothing', async () => {
    const cacheRoot = freshCache()
    const rev = await caught(fetchRepo(REPO, { cacheRoot, settings: settingsFor(hub.url), revision: 'v9.9' }))
    expect(rev.code).toBe('revision-not-found')
    expect(rev.message).toMatch(/revision "v9.9" does not exist in facebook\/esm2_tiny_test/)
    const none = await caught(fetchRepo(REPO, { cacheRoot, settings: settingsFor(hub.url), include: ['*.onnx'] }))
    expect(none.code).toBe('entry-not-found')
    expect(none.message).toMatch(/no file .* matches \["\*\.onnx"\].*model\.safetensors/)
  })

  it('falls back to the tree API when the revision API gives no sizes', async () => {
    hub.addRepo({
      id: 'mirror/no-blobs',
      noBlobs: true,
      files: [
        { path: 'a/big.bin', content: randomBytes(3000) },
        { path: 'a/small.txt', content: Buffer.from('hi') }
      ]
    })
    const r = await fetchRepo('mirror/no-blobs', { cacheRoot: freshCache(), settings: settingsFor(hub.url) })
    expect(r.files.map(f => [f.path, f.size, Boolean(f.lfsSha256), Boolean(f.blobId)])).toEqual([
      ['a/big.bin', 3000, true, false],
      ['a/small.txt', 2, false, true]
    ])
    expect(hub.requests.some(q => q.url.startsWith('/api/models/mirror/no-blobs/tree/'))).toBe(true)
    expect(readFileSync(r.files[1].localPath, 'utf8')).toBe('hi')
  })

  it('refuses to start when the disk cannot hold the download', async () => {
    hub.addRepo({
      id: 'huge/model',
      files: [{ path: 'model.safetensors', content: randomBytes(2048), listedSize: 2 ** 52 }]
    })
    const err = await caught(fetchRepo('huge/model', { cacheRoot: freshCache(), settings: settingsFor(hub.url) }))
    expect(err.code).toBe('disk-full')
    expect(err.message).toMatch(/not enough disk space for huge\/model: .* GB to download/)
    expect(hub.requestsTo('/huge/model/resolve/')).toHaveLength(0)
  })

  it('does not let two processes write the same file at once', async () => {
    const cacheRoot = freshCache()
    const listing = await fetchRepo(REPO, { cacheRoot, settings: settingsFor(hub.url), include: ['config.json'] })
    const cache = new RepoCache(cacheRoot, REPO)
    const lock = `${cache.partialPath(listing.sha, 'model.safetensors')}.lock`
    mkdirSync(join(lock, '..'), { recursive: true })
    writeFileSync(lock, String(process.ppid)) // a live process
    const busy = await caught(
      fetchRepo(REPO, { cacheRoot, settings: settingsFor(hub.url), include: ['model.safetensors'] })
    )
    expect(busy.code).toBe('busy')
    expect(busy.message).toMatch(new RegExp(`another process \\(pid ${process.ppid}\\)`))
    writeFileSync(lock, '999999999') // a stale lock is taken over
    const r = await fetchRepo(REPO, { cacheRoot, settings: settingsFor(hub.url), include: ['model.safetensors'] })
    expect(r.files).toHaveLength(1)
    expect(existsSync(lock)).toBe(false)
  })

  it('reads HF_ENDPOINT and HF_TOKEN from the environment', async () => {
    const s = hubSettings({ HF_ENDPOINT: `${hub.url}/`, HF_TOKEN: ' hf_good ' })
    expect(s.endpoint).toBe(hub.url)
    expect(s.token).toBe('hf_good')
    expect(hubSettings({}).endpoint).toBe('https://huggingface.co')
    const r = await fetchRepo('gated-org/secret-sae', { cacheRoot: freshCache(), settings: s, include: ['*.json'] })
    expect(r.files.map(f => f.path)).toEqual(['config.json'])
  })

  it('works offline from the cache and names what is missing', async () => {
    const cacheRoot = freshCache()
    const online = await fetchRepo('Elana/InterPLM-tiny', {
      cacheRoot,
      settings: settingsFor(hub.url),
      include: ['layer_2/*']
    })
    expect(online.files.map(f => f.path).sort()).toEqual(['layer_2/ae_normalized.pt', 'layer_2/config.yaml'])
    const dead = `http://127.0.0.1:${await closedPort()}`
    const offline = await fetchRepo('Elana/InterPLM-tiny', {
      cacheRoot,
      settings: settingsFor(dead),
      include: ['layer_2/*']
    })
    expect(offline.fromCache).toBe(true)
    expect(offline.files.map(f => f.localPath)).toEqual(online.files.map(f => f.localPath))
    const missing = await caught(
      fetchRepo('Elana/InterPLM-tiny', { cacheRoot, settings: settingsFor(dead), include: ['layer_3/*'] })
    )
    expect(missing.code).toBe('offline-missing')
    expect(missing.message).toMatch(/ECONNREFUSED|cannot reach/)
    expect(missing.message).toContain(`${dead}/Elana/InterPLM-tiny/resolve/${online.sha}/layer_3/ae_normalized.pt`)
    expect(missing.message).toContain(
      join(cacheRoot, 'Elana--InterPLM-tiny', online.sha, 'layer_3', 'ae_normalized.pt')
    )
    const never = await caught(
      fetchRepo('facebook/esm2_t6_8M_UR50D', {
        cacheRoot,
        settings: hubSettings({ HF_ENDPOINT: hub.url, HF_HUB_OFFLINE: '1' })
      })
    )
    expect(never.message).toContain(join(cacheRoot, 'facebook--esm2_t6_8M_UR50D', 'main'))
    // Files placed by hand in hub/{owner}--{name}/{revision}/ are used offline.
    mkdirSync(join(cacheRoot, 'facebook--esm2_t6_8M_UR50D', 'main'), { recursive: true })
    writeFileSync(join(cacheRoot, 'facebook--esm2_t6_8M_UR50D', 'main', 'config.json'), '{}')
    const placed = await fetchRepo('facebook/esm2_t6_8M_UR50D', { cacheRoot, settings: settingsFor(dead) })
    expect(placed.handPlaced).toBe(true)
    expect(placed.files.map(f => f.path)).toEqual(['config.json'])
  })

  it('reports a full disk clearly', async () => {
    if (!existsSync('/dev/full')) return
    const cacheRoot = freshCache()
    const listing = await fetchRepo('Elana/InterPLM-tiny', {
      cacheRoot,
      settings: settingsFor(hub.url),
      include: ['layer_1/config.yaml']
    })
    const cache = new RepoCache(cacheRoot, 'Elana/InterPLM-tiny')
    const partial = cache.partialPath(listing.sha, 'layer_1/ae_normalized.pt')
    mkdirSync(join(partial, '..'), { recursive: true })
    symlinkSync('/dev/full', partial)
    const err = await caught(
      fetchRepo('Elana/InterPLM-tiny', { cacheRoot, settings: settingsFor(hub.url), include: ['layer_1/*'] })
    )
    expect(err.code).toBe('disk-full')
    expect(err.message).toMatch(/disk is full/)
    expect(existsSync(cache.filePath(listing.sha, 'layer_1/ae_normalized.pt'))).toBe(false)
  })

  it('can be cancelled with an AbortSignal, keeping the partial file for later', async () => {
    const cacheRoot = freshCache()
    const ctl = new AbortController()
    hub.cutAfter(REPO, 'model.safetensors', 4096) // keep the transfer from finishing before the abort lands
    const err = await caught(
      fetchRepo(REPO, {
        cacheRoot,
        settings: settingsFor(hub.url),
        retries: 0,
        signal: ctl.signal,
        include: ['model.safetensors'],
        onProgress: p => p.bytesDone > 0 && ctl.abort()
      })
    )
    expect(err.code).toBe('cancelled')
    const r = await fetchRepo(REPO, { cacheRoot, settings: settingsFor(hub.url), include: ['model.safetensors'] })
    expect(readFileSync(r.files[0].localPath).equals(readFileSync(join(checkpointDir, 'model.safetensors')))).toBe(true)
  })
})

describe('proxies', () => {
  it('chooses the proxy from HTTPS_PROXY/HTTP_PROXY and honours NO_PROXY', () => {
    const env = {
      HTTPS_PROXY: 'http://user:pw@proxy.local:3128',
      HTTP_PROXY: 'proxy.local:8080',
      NO_PROXY: 'localhost,.internal.org,10.0.0.1:8443'
    }
    expect(proxyFor(new URL('https://huggingface.co/api'), env)?.host).toBe('proxy.local:3128')
    expect(proxyFor(new URL('http://example.com/'), env)?.host).toBe('proxy.local:8080')
    expect(proxyFor(new URL('https://cdn.internal.org/x'), env)).toBeUndefined()
    expect(proxyFor(new URL('http://localhost:9/x'), env)).toBeUndefined()
    expect(bypassesProxy(new URL('https://10.0.0.1:8443/'), env)).toBe(true)
    expect(bypassesProxy(new URL('https://10.0.0.1/'), env)).toBe(false)
    expect(proxyFor(new URL('https://huggingface.co/'), { https_proxy: 'http://p:1', no_proxy: '*' })).toBeUndefined()
    expect(() => proxyFor(new URL('https://huggingface.co/'), { HTTPS_PROXY: 'socks5://p:1' })).toThrow(/SOCKS/)
  })

  it(
    'downloads through a proxy: absolute-form for http, CONNECT + TLS for https, with Proxy-Authorization',
    { timeout: 30_000 },
    async () => {
      const seen: { url: string; auth?: string }[] = []
      const proxy = createServer((req, res) => {
        seen.push({ url: req.url ?? '', auth: req.headers['proxy-authorization'] })
        const target = new URL(req.url ?? '')
        const headers = { ...req.headers }
        delete headers['proxy-authorization']
        const up = httpRequest(target, { method: req.method, headers }, r => {
          res.writeHead(r.statusCode ?? 502, r.headers)
          r.pipe(res)
        })
        up.on('error', () => res.destroy())
        req.pipe(up)
      })
      // CONNECT tunnels (for https targets) on the same proxy.
      const tunnels: string[] = []
      const tunnelSockets: { destroy(): void }[] = []
      proxy.on('connect', (req, socket) => {
        tunnels.push(req.url ?? '')
        tunnelSockets.push(socket)
        socket.on('error', () => undefined)
        const [host, port] = (req.url ?? '').split(':')
        const up = connect(Number(port), host, () => {
          tunnelSockets.push(up)
          up.on('error', () => socket.destroy())
          socket.write('HTTP/1.1 200 Connection Established\r\n\r\n')
          up.pipe(socket)
          socket.pipe(up)
        })
      })
      await new Promise<void>(r => proxy.listen(0, '127.0.0.1', r))
      const proxyUrl = `http://bob:s%3Acret@127.0.0.1:${(proxy.address() as AddressInfo).port}`
      try {
        const settings = hubSettings({ HF_ENDPOINT: hub.url, HTTP_PROXY: proxyUrl })
        const r = await fetchRepo(REPO, {
          cacheRoot: freshCache(),
          settings,
          include: ['config.json', 'model.safetensors']
        })
        expect(r.files).toHaveLength(2)
        expect(seen.some(s => s.url.startsWith(`${hub.url}/api/models/${REPO}/revision/main`))).toBe(true)
        expect(seen.some(s => s.url.startsWith(`${hub.cdnUrl}/cdn/`))).toBe(true)
        expect(seen.every(s => s.auth === `Basic ${Buffer.from('bob:s:cret').toString('base64')}`)).toBe(true)
        // NO_PROXY bypasses it.
        const n = seen.length
        await fetchRepo(REPO, {
          cacheRoot: freshCache(),
          settings: hubSettings({ HF_ENDPOINT: hub.url, HTTP_PROXY: proxyUrl, NO_PROXY: '127.0.0.1' }),
          include: ['config.json']
        })
        expect(seen.length).toBe(n)

        // https through the proxy: a CONNECT tunnel, TLS to the origin inside it (the hub and its CDN).
        let openssl = true
        const certDir = join(work.dir, 'tls')
        mkdirSync(certDir, { recursive: true })
        try {
          execFileSync(
            'openssl',
            [
              'req',
              '-x509',
              '-newkey',
              'rsa:2048',
              '-nodes',
              '-keyout',
              join(certDir, 'key.pem'),
              '-out',
              join(certDir, 'cert.pem'),
              '-days',
              '1',
              '-subj',
              '/CN=127.0.0.1',
              '-addext',
              'subjectAltName=IP:127.0.0.1'
            ],
            { stdio: 'ignore' }
          )
        } catch {
          openssl = false
        }
        if (openssl) {
          const tlsHub = await startFakeHub(['hf_good'], {
            key: readFileSync(join(certDir, 'key.pem'), 'utf8'),
            cert: readFileSync(join(certDir, 'cert.pem'), 'utf8')
          })
          try {
            tlsHub.addRepo({ id: REPO, files: filesFromFolder(checkpointDir) })
            const env = {
              HF_ENDPOINT: tlsHub.url,
              HF_TOKEN: 'hf_good',
              HTTPS_PROXY: proxyUrl,
              SSL_CERT_FILE: join(certDir, 'cert.pem')
            }
            const r = await fetchRepo(REPO, {
              cacheRoot: freshCache(),
              settings: hubSettings(env),
              include: ['model.safetensors']
            })
            expect(
              readFileSync(r.files[0].localPath).equals(readFileSync(join(checkpointDir, 'model.safetensors')))
            ).toBe(true)
            const hubPort = new URL(tlsHub.url).port
            const cdnPort = new URL(tlsHub.cdnUrl).port
            expect(tunnels).toContain(`127.0.0.1:${hubPort}`)
            expect(tunnels).toContain(`127.0.0.1:${cdnPort}`)
            // The token went through the tunnel to the hub only (encrypted), never to the CDN.
            expect(tlsHub.requestsTo('/api/').every(q => q.headers.authorization === 'Bearer hf_good')).toBe(true)
            expect(tlsHub.requestsTo('/cdn/').every(q => q.headers.authorization === undefined)).toBe(true)
            // Without the CA, the self-signed certificate is refused.
            const bad = await caught(
              fetchRepo(REPO, {
                cacheRoot: freshCache(),
                settings: hubSettings({ ...env, SSL_CERT_FILE: undefined }),
                include: ['config.json']
              })
            )
            expect(bad.code).toBe('offline-missing') // nothing cached to fall back on
            expect(bad.message).toMatch(/self-signed certificate.*SSL_CERT_FILE/)
          } finally {
            await tlsHub.close()
          }
        }
      } finally {
        for (const s of tunnelSockets) s.destroy()
        proxy.closeAllConnections()
        await new Promise<void>(r => proxy.close(() => r()))
      }
    }
  )
})
