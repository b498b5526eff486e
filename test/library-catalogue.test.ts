import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { createHash, randomBytes } from 'node:crypto'
import { ModelLibrary, DEMO_ESM2_ID, DEMO_SAE_ID, fileSelection } from '../src/main/engine/library/model-library'
import { CATALOGUE, ESM2_8M_ID, PREPRINT_SAE_ID } from '../src/main/engine/library/catalogue'
import { SettingsStore } from '../src/main/engine/library/app-settings'
import { hubSettings } from '../src/main/engine/hub/hub-api'
import { loadSae } from '../src/main/engine/sae/sae-load'
import { checkAddEntryRequest, checkRepoId, formatBytes, type DownloadProgress } from '../src/shared/library-types'
import { filesFromFolder, startFakeHub, type FakeHub } from './fixtures/fake-hub'
import { writeInterprotSae } from './fixtures/sae-checkpoints'
import { writeHfCheckpoint } from './fixtures/esm2-checkpoint'
import { writeSafetensors } from './fixtures/safetensors-writer'
import { tempDir } from './helpers/tmp'

let hub: FakeHub
let work: { dir: string; cleanup: () => void }
let ckpt: string
let saeDir: string
let n = 0

function freshLibrary(endpoint = hub.url): { lib: ModelLibrary; dataDir: string } {
  const dataDir = join(work.dir, `data-${n++}`)
  mkdirSync(dataDir, { recursive: true })
  return { lib: new ModelLibrary({ dataDir, hub: hubSettings({ HF_ENDPOINT: endpoint }) }), dataDir }
}

function writePreprintSae(dir: string, dIn: number, dSae: number): void {
  mkdirSync(dir, { recursive: true })
  const rnd = (k: number) => Float32Array.from({ length: k }, () => Math.random() - 0.5)
  writeSafetensors(join(dir, 'model.safetensors'), {
    W_enc: { dtype: 'F32', shape: [dIn, dSae], data: rnd(dIn * dSae) },
    b_enc: { dtype: 'F32', shape: [dSae], data: rnd(dSae) },
    W_dec: { dtype: 'F32', shape: [dSae, dIn], data: rnd(dSae * dIn) },
    b_dec: { dtype: 'F32', shape: [dIn], data: rnd(dIn) }
  })
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ cfg: { act_size: dIn, dict_size: dSae, layer: 3, l1_coeff: 0.001 } })
  )
}

beforeAll(async () => {
  work = tempDir('library')
  ckpt = join(work.dir, 'ckpt')
  writeHfCheckpoint(ckpt, 'tiny', 3)
  saeDir = join(work.dir, 'sae')
  writePreprintSae(saeDir, 32, 64)
  hub = await startFakeHub(['hf_good'])
  // Plays facebook/esm2_t6_8M_UR50D with a tiny random checkpoint: not the real weights, so it must be flagged.
  hub.addRepo({
    id: 'facebook/esm2_t6_8M_UR50D',
    files: [
      ...filesFromFolder(ckpt),
      { path: 'pytorch_model.bin', content: randomBytes(3000) },
      { path: 'tf_model.h5', content: randomBytes(3000) },
      { path: 'README.md', content: Buffer.from('# ESM2') }
    ]
  })
  hub.addRepo({
    id: 'evillegasgarcia/sae_esm2_6_l3',
    files: [...filesFromFolder(saeDir), { path: 'README.md', content: Buffer.from('sae') }]
  })
  hub.addRepo({
    id: 'Elana/InterPLM-esm2-8m',
    files: [1, 2, 3, 4, 5, 6].flatMap(l => [
      { path: `layer_${l}/ae_normalized.pt`, content: randomBytes(1500 + l) },
      { path: `layer_${l}/config.yaml`, content: Buffer.from(`layer: ${l}\n`) }
    ])
  })
  hub.addRepo({ id: 'someone/custom-esm', files: filesFromFolder(ckpt) })
  // InterProt's repository: one safetensors file per SAE (here two, plus a README); an entry downloads one file.
  const interprotDir = join(work.dir, 'interprot')
  const l8 = writeInterprotSae(interprotDir, 8, { dIn: 32, dSae: 40 }, 3)
  renameSync(l8.file, join(interprotDir, 'esm2_plm1280_l8_sae4096.safetensors'))
  writeInterprotSae(interprotDir, 12, { dIn: 32, dSae: 40 }, 4)
  hub.addRepo({
    id: 'liambai/InterProt-ESM2-SAEs',
    files: [...filesFromFolder(interprotDir), { path: 'README.md', content: Buffer.from('InterProt') }]
  })
})

afterAll(async () => {
  await hub.close()
  work.cleanup()
})

describe('catalogue', () => {
  it('lists the known models and SAEs with their layers and formats, none downloaded yet', () => {
    const { lib } = freshLibrary()
    const list = lib.list()
    const byId = new Map(list.map(e => [e.id, e]))
    for (const [repo, layers, hidden] of [
      ['facebook/esm2_t6_8M_UR50D', 6, 320],
      ['facebook/esm2_t12_35M_UR50D', 12, 480],
      ['facebook/esm2_t30_150M_UR50D', 30, 640],
      ['facebook/esm2_t33_650M_UR50D', 33, 1280]
    ] as const) {
      const e = byId.get(`hub:${repo}`)!
      expect(e.kind).toBe('esm2')
      expect(e.numLayers).toBe(layers)
      expect(e.hiddenSize).toBe(hidden)
      expect(e.demo).toBe(false)
    }
    const pre = byId.get(PREPRINT_SAE_ID)!
    expect(pre).toMatchObject({
      kind: 'sae',
      saeFormat: 'preprint',
      layer: 4,
      baseModelId: ESM2_8M_ID,
      source: { kind: 'hub', repo: 'evillegasgarcia/sae_esm2_6_l3' }
    })
    for (let l = 1; l <= 6; l++) {
      expect(byId.get(`hub:Elana/InterPLM-esm2-8m/layer_${l}`)).toMatchObject({
        kind: 'sae',
        saeFormat: 'interplm',
        layer: l,
        source: { subfolder: `layer_${l}` }
      })
    }
    expect(
      list
        .filter(e => e.demo)
        .map(e => e.id)
        .sort()
    ).toEqual([DEMO_ESM2_ID, DEMO_SAE_ID])
    for (const e of list.filter(x => x.demo)) expect(e.name).toMatch(/\(random weights\)/)
    expect(list.filter(e => !e.demo).every(e => !/random/i.test(e.name))).toBe(true)
    expect(list.every(e => e.status === 'not-downloaded' && e.diskBytes === 0)).toBe(true)
    expect(byId.get(ESM2_8M_ID)!.message).toMatch(/plm-sae fetch facebook\/esm2_t6_8M_UR50D/)
    for (const l of [1, 9, 18, 24, 30, 33]) {
      expect(byId.get(`hub:Elana/InterPLM-esm2-650m/layer_${l}`)).toMatchObject({
        kind: 'sae',
        saeFormat: 'interplm',
        layer: l,
        baseModelId: 'hub:facebook/esm2_t33_650M_UR50D'
      })
    }
    const interprot = list.filter(e => e.saeFormat === 'interprot')
    expect(interprot.map(e => e.layer)).toEqual([4, 8, 12, 16, 20, 24, 28, 32, 33])
    for (const e of interprot) {
      expect(e).toMatchObject({
        kind: 'sae',
        baseModelId: 'hub:facebook/esm2_t33_650M_UR50D',
        source: { kind: 'hub', repo: 'liambai/InterProt-ESM2-SAEs' }
      })
      expect(e.source.kind === 'hub' && e.source.file).toMatch(
        new RegExp(`^esm2_plm1280_l${e.layer}_sae4096(_100k)?\\.safetensors$`)
      )
      expect(e.saeK).toBe(e.layer === 24 ? undefined : 64)
      expect(fileSelection(e)).toEqual({ include: [e.source.kind === 'hub' ? e.source.file : ''] })
    }
    expect(CATALOGUE.length).toBe(27)
  })

  it('validates repository ids and add requests', () => {
    expect(checkRepoId('facebook/esm2_t6_8M_UR50D')).toBeUndefined()
    expect(checkRepoId('gpt2')).toBeUndefined()
    expect(checkRepoId('../etc/passwd')).toMatch(/not a Hugging Face repository id/)
    expect(checkRepoId('a/b/c')).toMatch(/not a Hugging Face/)
    expect(checkAddEntryRequest({ kind: 'sae', source: 'hub', repo: 'x/y', subfolder: '../z' })).toMatch(
      /not a valid folder/
    )
    expect(checkAddEntryRequest({ kind: 'sae', source: 'hub', repo: 'x/y', layer: -1 })).toMatch(/layer/)
    expect(formatBytes(31_384_292)).toBe('31.4 MB')
  })
})

describe('downloads into the library', () => {
  it('flags an ESM2-8M download whose sha256 differs from the real one, fetching only the needed files', async () => {
    const { lib } = freshLibrary()
    const progress: DownloadProgress[] = []
    const e = await lib.download(ESM2_8M_ID, { onProgress: p => progress.push(p) })
    expect(progress.every(p => p.entryId === ESM2_8M_ID)).toBe(true)
    expect(progress[progress.length - 1].bytesDone).toBe(progress[progress.length - 1].bytesTotal)
    expect(e.status).toBe('failed-verification')
    expect(e.mismatches).toHaveLength(1)
    expect(e.mismatches![0]).toMatchObject({
      file: 'model.safetensors',
      expectedSha256: '24c5fa474c48f3b754b86efe752d5f189d2bcd88190fa2270fc92b2ef3034189'
    })
    expect(e.mismatches![0].actualSha256).toBe(sha256(readFileSync(join(ckpt, 'model.safetensors'))))
    expect(e.message).toMatch(/not the real weights/)
    const fetched = hub.requestsTo('/facebook/esm2_t6_8M_UR50D/resolve/').map(q => q.url.split('/').pop())
    expect(fetched.sort()).toEqual([
      'config.json',
      'model.safetensors',
      'special_tokens_map.json',
      'tokenizer_config.json',
      'vocab.txt'
    ])
    expect(e.diskBytes).toBeGreaterThan(readFileSync(join(ckpt, 'model.safetensors')).length)
  })

  it('downloads the preprint SAE ready to load, and works offline afterwards', async () => {
    const { lib, dataDir } = freshLibrary()
    const e = await lib.download(PREPRINT_SAE_ID)
    expect(e.status).toBe('ready')
    expect(e.revisionSha).toMatch(/^[0-9a-f]{40}$/)
    const sae = await loadSae(e.localPath!)
    expect(sae).toMatchObject({ format: 'preprint', dIn: 32, dSae: 64, layer: 4 })
    // Offline: the endpoint is a closed port; the entry stays ready and its path resolves.
    const s = createServer()
    await new Promise<void>(r => s.listen(0, '127.0.0.1', r))
    const dead = `http://127.0.0.1:${(s.address() as AddressInfo).port}`
    await new Promise<void>(r => s.close(() => r()))
    const offline = new ModelLibrary({ dataDir, hub: hubSettings({ HF_ENDPOINT: dead }) })
    expect(offline.get(PREPRINT_SAE_ID).status).toBe('ready')
    expect(offline.localPath(PREPRINT_SAE_ID)).toBe(e.localPath)
    expect(() => offline.localPath('hub:Elana/InterPLM-esm2-8m/layer_4')).toThrow(
      /not available: .*plm-sae fetch Elana\/InterPLM-esm2-8m/
    )
    await expect(offline.download('hub:Elana/InterPLM-esm2-8m/layer_4')).rejects.toThrow(/not in the cache/)
    expect(offline.get('hub:Elana/InterPLM-esm2-8m/layer_4').message).toMatch(/last attempt failed/)
  })

  it('downloads one InterProt file of the repository (the catalogue entry), and a whole folder asks which', async () => {
    const { lib } = freshLibrary()
    const id = 'hub:liambai/InterProt-ESM2-SAEs/esm2_plm1280_l8_sae4096.safetensors'
    const e = await lib.download(id)
    expect(e.status).toBe('ready')
    expect(e.localPath).toMatch(/liambai--InterProt-ESM2-SAEs\/[0-9a-f]{40}\/esm2_plm1280_l8_sae4096\.safetensors$/)
    expect(existsSync(join(e.localPath!, '..', 'README.md'))).toBe(false)
    expect(existsSync(join(e.localPath!, '..', 'esm2_plm32_l12_sae40.safetensors'))).toBe(false)
    // the fake file is 32 wide under the 1280-wide name: the loader checks the name against the shapes
    await expect(loadSae(e.localPath!, { libraryK: e.saeK })).rejects.toThrow(
      /tensor "w_enc" has shape \[32, 40\], expected \[d_in=1280, d_sae=4096\]/
    )
    const user = lib.add({
      kind: 'sae',
      source: 'hub',
      repo: 'liambai/InterProt-ESM2-SAEs',
      name: 'InterProt test',
      saeFormat: 'interprot'
    })
    const whole = await lib.download(user.id)
    expect(whole.status).toBe('ready')
    await expect(loadSae(whole.localPath!)).rejects.toThrow(
      /InterProt folder holds 2 SAEs for layers 8, 12; choose one/
    )
    const sae = await loadSae(whole.localPath!, { layer: 12, libraryK: 5 })
    expect(sae).toMatchObject({ format: 'interprot', layer: 12, activation: { kind: 'topk', k: 5, relu: true } })
  })

  it('downloads one InterPLM layer, shows its disk use, and removes it', async () => {
    const { lib } = freshLibrary()
    const id = 'hub:Elana/InterPLM-esm2-8m/layer_2'
    const e = await lib.download(id)
    expect(e.status).toBe('ready')
    expect(e.localPath).toMatch(/Elana--InterPLM-esm2-8m\/[0-9a-f]{40}\/layer_2$/)
    expect(e.diskBytes).toBe(1502 + 'layer: 2\n'.length)
    expect(lib.get('hub:Elana/InterPLM-esm2-8m/layer_3').status).toBe('not-downloaded')
    const r = lib.remove(id)
    expect(r).toEqual({ id, freedBytes: e.diskBytes, entryRemoved: false })
    expect(lib.get(id)).toMatchObject({ status: 'not-downloaded', diskBytes: 0 })
    expect(existsSync(e.localPath!)).toBe(false)
  })

  it('records a checksum failure as failed verification', async () => {
    const { lib } = freshLibrary()
    hub.corrupt('Elana/InterPLM-esm2-8m', 'layer_5/ae_normalized.pt')
    await expect(lib.download('hub:Elana/InterPLM-esm2-8m/layer_5')).rejects.toThrow(/checksum mismatch/)
    const e = lib.get('hub:Elana/InterPLM-esm2-8m/layer_5')
    expect(e.status).toBe('failed-verification')
    expect(e.localPath).toBeUndefined()
  })

  it('flags ESM2-8M files placed by hand that are not the real ones', () => {
    const { lib, dataDir } = freshLibrary()
    const dir = join(dataDir, 'hub', 'facebook--esm2_t6_8M_UR50D', 'main')
    mkdirSync(dir, { recursive: true })
    for (const f of ['config.json', 'model.safetensors', 'vocab.txt']) copyFileSync(join(ckpt, f), join(dir, f))
    const e = lib.get(ESM2_8M_ID)
    expect(e.status).toBe('failed-verification')
    expect(e.localPath).toBe(dir)
    expect(e.mismatches![0].actualSha256).toBe(sha256(readFileSync(join(ckpt, 'model.safetensors'))))
  })
})

describe('user entries', () => {
  it('adds a hub id and a local folder, persists them, and removes them without touching local files', async () => {
    const { lib, dataDir } = freshLibrary()
    const hubEntry = lib.add({ kind: 'esm2', source: 'hub', repo: 'someone/custom-esm' })
    expect(hubEntry).toMatchObject({
      id: 'hub:someone/custom-esm',
      builtIn: false,
      demo: false,
      status: 'not-downloaded'
    })
    expect(() => lib.add({ kind: 'esm2', source: 'hub', repo: 'someone/custom-esm' })).toThrow(/already in the library/)
    expect(() => lib.add({ kind: 'esm2', source: 'hub', repo: 'bad id!' })).toThrow(/not a Hugging Face repository id/)
    const local = lib.add({ kind: 'sae', source: 'local', path: saeDir, name: 'My SAE' })
    expect(local).toMatchObject({
      id: `local:${saeDir}`,
      name: 'My SAE',
      saeFormat: 'preprint',
      layer: 4,
      status: 'ready',
      localPath: saeDir
    })
    expect(() => lib.add({ kind: 'esm2', source: 'local', path: saeDir + '-missing' })).toThrow(/no such folder/)
    expect(() => lib.add({ kind: 'esm2', source: 'local', path: work.dir })).toThrow(/lacks config.json/)
    // A second library object on the same data folder sees the same entries.
    const again = new ModelLibrary({ dataDir, hub: hubSettings({ HF_ENDPOINT: hub.url }) })
    expect(again.get('hub:someone/custom-esm').name).toBe('someone/custom-esm')
    const downloaded = await again.download('hub:someone/custom-esm')
    expect(downloaded.status).toBe('ready')
    const rm = again.remove('hub:someone/custom-esm')
    expect(rm.entryRemoved).toBe(true)
    expect(rm.freedBytes).toBeGreaterThan(0)
    expect(again.list().some(e => e.id === 'hub:someone/custom-esm')).toBe(false)
    expect(again.remove(`local:${saeDir}`)).toEqual({ id: `local:${saeDir}`, freedBytes: 0, entryRemoved: true })
    expect(existsSync(join(saeDir, 'model.safetensors'))).toBe(true)
    expect(() => again.remove(ESM2_8M_ID)).not.toThrow()
    expect(again.list().some(e => e.id === ESM2_8M_ID)).toBe(true)
  })
})

describe('settings', () => {
  it('persists the last project, model and SAE, ignoring bad values', () => {
    const { lib, dataDir } = freshLibrary()
    const store = new SettingsStore(dataDir)
    expect(store.load()).toEqual({})
    store.update({ lastProject: '/tmp/demo.plmsae', lastModelId: `local:${ckpt}` })
    store.update({ lastSaeId: `local:${saeDir}` })
    expect(new SettingsStore(dataDir).load()).toEqual({
      lastProject: '/tmp/demo.plmsae',
      lastModelId: `local:${ckpt}`,
      lastSaeId: `local:${saeDir}`
    })
    expect(store.update({ lastProject: undefined })).toEqual({
      lastModelId: `local:${ckpt}`,
      lastSaeId: `local:${saeDir}`
    })
    writeFileSync(store.path, JSON.stringify({ lastProject: 42, lastModelId: 'x', junk: true }))
    expect(store.load()).toEqual({ lastModelId: 'x' })
    writeFileSync(store.path, '{not json')
    expect(store.load()).toEqual({})
    // Start-up selection: the remembered entries when they are ready.
    lib.add({ kind: 'esm2', source: 'local', path: ckpt })
    lib.add({ kind: 'sae', source: 'local', path: saeDir })
    const sel = lib.startupSelection({ lastModelId: `local:${ckpt}`, lastSaeId: `local:${saeDir}` })
    expect(sel.model?.id).toBe(`local:${ckpt}`)
    expect(sel.sae?.id).toBe(`local:${saeDir}`)
    expect(sel.demo).toBe(false)
    expect(lib.startupSelection({ lastModelId: 'hub:nothing/here' }).model).toBeUndefined()
  })
})

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex')
}
