/**
 * The SAE picker's engine side: the SAEs a folder or a hub repository's file list holds (InterProt files named
 * esm2_plm<d>_l<layer>_sae<n>[_k<k>], SAELens folders with one cfg.json each, other recognised SAEs), and a
 * chosen one registered in the model library, downloaded alone and loaded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { hubSettings } from '../src/main/engine/hub/hub-api'
import { ModelLibrary } from '../src/main/engine/library/model-library'
import { listSaesInFolder, listSaesInRepoFiles } from '../src/main/engine/sae/sae-listing'
import { loadSae } from '../src/main/engine/sae/sae-load'
import { filesFromFolder, startFakeHub, type FakeHub } from './fixtures/fake-hub'
import { writeGenericSae, writeInterprotSae, writeSaelensSae } from './fixtures/sae-checkpoints'
import { tempDir } from './helpers/tmp'
import { validateRequest } from '../src/shared/validate'

const tmp = tempDir('sae-listing')
let hub: FakeHub
let interprotDir: string
let saelensDir: string

beforeAll(async () => {
  interprotDir = join(tmp.dir, 'interprot')
  writeInterprotSae(interprotDir, 3, { dIn: 16, dSae: 48 }, 1)
  writeInterprotSae(interprotDir, 1, { dIn: 16, dSae: 32 }, 2, '_k7_auxk640')
  writeInterprotSae(interprotDir, 5, { dIn: 16, dSae: 64 }, 3, '_100k')
  saelensDir = join(tmp.dir, 'saelens')
  writeSaelensSae(join(saelensDir, 'blocks.4.hook_resid_post'), { dIn: 16, dSae: 40 }, 4, {
    architecture: 'topk',
    k: 9,
    hookName: 'blocks.4.hook_resid_post'
  })
  writeSaelensSae(join(saelensDir, 'blocks.1.hook_resid_pre'), { dIn: 16, dSae: 24 }, 5, {
    architecture: 'standard',
    hookName: 'blocks.1.hook_resid_pre'
  })
  writeSaelensSae(join(saelensDir, 'nested', 'custom-hook'), { dIn: 16, dSae: 20 }, 6, {
    architecture: 'jumprelu',
    hookName: 'some.other.hook'
  })
  hub = await startFakeHub()
  hub.addRepo({ id: 'someone/interprot-like', files: filesFromFolder(interprotDir) })
  hub.addRepo({
    id: 'someone/saelens-like',
    files: [...filesFromFolder(saelensDir), { path: 'README.md', content: Buffer.from('# SAEs') }]
  })
})

afterAll(async () => {
  await hub.close()
  tmp.cleanup()
})

describe('the SAEs of a folder', () => {
  it('lists InterProt files with d, layer, width and k from their names, by layer', () => {
    expect(listSaesInFolder(interprotDir)).toEqual([
      { file: 'esm2_plm16_l1_sae32_k7_auxk640.safetensors', format: 'interprot', dIn: 16, dSae: 32, layer: 1, k: 7 },
      { file: 'esm2_plm16_l3_sae48.safetensors', format: 'interprot', dIn: 16, dSae: 48, layer: 3 },
      { file: 'esm2_plm16_l5_sae64_100k.safetensors', format: 'interprot', dIn: 16, dSae: 64, layer: 5 }
    ])
  })

  it('lists SAELens subfolders (nested too) with sizes, k and layer from each cfg.json', () => {
    expect(listSaesInFolder(saelensDir)).toEqual([
      { subfolder: 'nested/custom-hook', format: 'saelens', dIn: 16, dSae: 20 },
      { subfolder: 'blocks.1.hook_resid_pre', format: 'saelens', dIn: 16, dSae: 24, layer: 1 },
      { subfolder: 'blocks.4.hook_resid_post', format: 'saelens', dIn: 16, dSae: 40, layer: 5, k: 9 }
    ])
  })

  it('lists other recognised SAEs in subfolders, and nothing in a folder without SAEs', () => {
    const mixed = join(tmp.dir, 'mixed')
    writeGenericSae(join(mixed, 'a-generic'), { dIn: 16, dSae: 8 }, 7, { activation: 'topk', k: 3, layer: 2 })
    writeInterprotSae(join(mixed, 'interprot'), 2, { dIn: 16, dSae: 8 }, 8)
    expect(listSaesInFolder(mixed)).toEqual([
      { subfolder: 'a-generic', format: 'generic' },
      {
        subfolder: 'interprot',
        file: 'esm2_plm16_l2_sae8.safetensors',
        format: 'interprot',
        dIn: 16,
        dSae: 8,
        layer: 2
      }
    ])
    expect(listSaesInFolder(join(tmp.dir, 'saelens', 'nested', 'custom-hook', 'nothing'))).toEqual([])
  })
})

describe('the SAEs of a hub repository', () => {
  it('reads them from the file names alone', () => {
    expect(
      listSaesInRepoFiles([
        'README.md',
        'esm2_plm1280_l24_sae4096_100k.safetensors',
        'esm2_plm1280_l8_sae4096_k64.safetensors',
        'esm2_plm1280_l8_sae4096.json',
        'blocks.3.hook_resid_post/cfg.json',
        'blocks.3.hook_resid_post/sae_weights.safetensors',
        'blocks.3.hook_resid_post/sparsity.safetensors',
        'only-config/cfg.json',
        'interplm/layer_6/ae_normalized.pt',
        'interplm/layer_6/ae_unnormalized.pt',
        'interplm/layer_12/ae_normalized.pt',
        'generic/sae.json',
        'generic/sae.safetensors',
        'preprint/config.json',
        'preprint/model.safetensors',
        'run/trainer_0/ae.pt',
        'run/trainer_0/config.json',
        'run/trainer_1/ae.pt'
      ])
    ).toEqual([
      { subfolder: 'generic', format: 'generic' },
      { subfolder: 'preprint', format: 'preprint' },
      { subfolder: 'run/trainer_0', format: 'dictionary-learning' },
      { subfolder: 'blocks.3.hook_resid_post', format: 'saelens', layer: 4 },
      { subfolder: 'interplm/layer_6', format: 'interplm', layer: 6 },
      { file: 'esm2_plm1280_l8_sae4096_k64.safetensors', format: 'interprot', dIn: 1280, dSae: 4096, layer: 8, k: 64 },
      { subfolder: 'interplm/layer_12', format: 'interplm', layer: 12 },
      { file: 'esm2_plm1280_l24_sae4096_100k.safetensors', format: 'interprot', dIn: 1280, dSae: 4096, layer: 24 }
    ])
  })

  it('lists a repository through the hub API, registers the chosen SAE, downloads only its files and loads it', async () => {
    const lib = new ModelLibrary({ dataDir: join(tmp.dir, 'data'), hub: hubSettings({ HF_ENDPOINT: hub.url }) })
    const listing = await lib.listHubSaes('someone/interprot-like')
    expect(listing.revision).toBe('main')
    expect(listing.sha).toMatch(/^[0-9a-f]{40}$/)
    expect(listing.choices.map(c => [c.file, c.layer, c.k])).toEqual([
      ['esm2_plm16_l1_sae32_k7_auxk640.safetensors', 1, 7],
      ['esm2_plm16_l3_sae48.safetensors', 3, undefined],
      ['esm2_plm16_l5_sae64_100k.safetensors', 5, undefined]
    ])
    const chosen = listing.choices[0]
    const entry = lib.add({ kind: 'sae', source: 'hub', repo: 'someone/interprot-like', file: chosen.file })
    expect(entry.id).toBe('hub:someone/interprot-like/esm2_plm16_l1_sae32_k7_auxk640.safetensors')
    expect(entry.saeFormat).toBe('interprot')
    expect(entry.layer).toBe(1)
    expect(entry.status).toBe('not-downloaded')
    const before = hub.requests.length
    const ready = await lib.download(entry.id)
    expect(ready.status).toBe('ready')
    const fileGets = hub.requests.slice(before).filter(r => r.url.includes('/resolve/'))
    expect(fileGets.map(r => decodeURIComponent(r.url))).toEqual([
      expect.stringContaining('esm2_plm16_l1_sae32_k7_auxk640.safetensors')
    ])
    const sae = await loadSae(ready.localPath as string)
    expect([sae.format, sae.dIn, sae.dSae, sae.layer]).toEqual(['interprot', 16, 32, 1])
    expect(sae.activation).toMatchObject({ kind: 'topk', k: 7 })

    const saelens = await lib.listHubSaes('someone/saelens-like')
    const pick = saelens.choices.find(c => c.layer === 5)
    expect(pick).toEqual({ subfolder: 'blocks.4.hook_resid_post', format: 'saelens', layer: 5 })
    const e2 = lib.add({
      kind: 'sae',
      source: 'hub',
      repo: 'someone/saelens-like',
      subfolder: pick?.subfolder,
      saeFormat: 'saelens',
      layer: 5
    })
    const got = await lib.download(e2.id)
    expect(got.status).toBe('ready')
    const s2 = await loadSae(got.localPath as string)
    expect([s2.format, s2.dSae, s2.layer]).toEqual(['saelens', 40, 5])
  })

  it('validates the listing request and the chosen file of an add request', () => {
    expect(validateRequest('listHubSaes', { repo: 'liambai/InterProt-ESM2-SAEs' })).toEqual({
      repo: 'liambai/InterProt-ESM2-SAEs'
    })
    expect(() => validateRequest('listHubSaes', { repo: '../etc' })).toThrow(
      /request.repo: is not a Hugging Face repository id/
    )
    expect(() => validateRequest('listHubSaes', { repo: 'a/b', extra: 1 })).toThrow(/extra/)
    expect(() =>
      validateRequest('addModel', { kind: 'sae', source: 'hub', repo: 'a/b', file: '../x.safetensors' })
    ).toThrow(/request.file: is not a file name inside a repository folder/)
  })

  it('says clearly when the repository does not exist', async () => {
    const lib = new ModelLibrary({ dataDir: join(tmp.dir, 'data2'), hub: hubSettings({ HF_ENDPOINT: hub.url }) })
    await expect(lib.listHubSaes('someone/no-such-repo')).rejects.toThrow(
      /repository "someone\/no-such-repo" was not found/
    )
  })
})
