import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { runCli } from './helpers/cli'
import { filesFromFolder, startFakeHub, type FakeHub } from './fixtures/fake-hub'
import { writeHfCheckpoint } from './fixtures/esm2-checkpoint'
import { tempDir } from './helpers/tmp'

let hub: FakeHub
let work: { dir: string; cleanup: () => void }
const saved = { ...process.env }

beforeAll(async () => {
  work = tempDir('fetch-cli')
  writeHfCheckpoint(join(work.dir, 'ckpt'), 'tiny', 5)
  hub = await startFakeHub(['hf_cli'])
  hub.addRepo({ id: 'facebook/esm2_tiny', files: filesFromFolder(join(work.dir, 'ckpt')) })
  process.env.HF_ENDPOINT = hub.url
  process.env.PLM_SAE_HOME = join(work.dir, 'home')
  delete process.env.HF_TOKEN
})

afterAll(async () => {
  process.env = saved
  await hub.close()
  work.cleanup()
})

describe('plm-sae fetch', () => {
  it('downloads into $PLM_SAE_HOME/hub and prints JSON', async () => {
    const r = await runCli([
      'fetch',
      'facebook/esm2_tiny',
      '--include',
      '*.json',
      '--include',
      'model.safetensors',
      '--json'
    ])
    expect(r.code).toBe(0)
    const res = JSON.parse(r.out) as {
      dir: string
      files: { path: string; localPath: string; sha256?: string }[]
      fromCache: boolean
    }
    expect(res.dir.startsWith(join(work.dir, 'home', 'hub', 'facebook--esm2_tiny'))).toBe(true)
    expect(res.files.map(f => f.path).sort()).toEqual([
      'config.json',
      'model.safetensors',
      'special_tokens_map.json',
      'tokenizer_config.json'
    ])
    const st = res.files.find(f => f.path === 'model.safetensors')!
    expect(readFileSync(st.localPath).equals(readFileSync(join(work.dir, 'ckpt', 'model.safetensors')))).toBe(true)
    expect(st.sha256).toMatch(/^[0-9a-f]{64}$/)
    const again = await runCli(['fetch', 'facebook/esm2_tiny', '--include', '*.json', '--offline'])
    expect(again.code).toBe(0)
    expect(again.out).toMatch(/3 files, .* found in the cache/)
  })

  it('fails with a clear message for an unknown repository or a bad id', async () => {
    const r = await runCli(['fetch', 'nobody/nothing'])
    expect(r.code).toBe(1)
    expect(r.err).toMatch(/plm-sae: error: repository "nobody\/nothing" was not found on http:\/\/127\.0\.0\.1:\d+/)
    const bad = await runCli(['fetch', 'not a repo'])
    expect(bad.code).toBe(1)
    expect(bad.err).toMatch(/not a Hugging Face repository id/)
  })
})
