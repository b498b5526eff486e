/**
 * End to end, the SAE picker (issue 10) in browser mode with Debian's Chromium: a hub repository holding several
 * InterProt SAEs (served by the tests' fake hub), "List SAEs" shows each with its format, d, width, layer and k,
 * and "Add" registers the chosen one as a library entry (one file of the repository).
 */
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { filesFromFolder, startFakeHub, type FakeHub } from '../fixtures/fake-hub'
import { writeInterprotSae, writeSaelensSae } from '../fixtures/sae-checkpoints'
import { tempDir } from '../helpers/tmp'
import { startE2e, type E2e } from './harness'

const REPO_ID = 'someone/several-saes'
const tmp = tempDir('e2e-sae-picker')
let e2e: E2e
let page: Page
let hub: FakeHub
const endpointBefore = process.env.HF_ENDPOINT

beforeAll(async () => {
  const dir = join(tmp.dir, 'repo')
  writeInterprotSae(dir, 2, { dIn: 16, dSae: 32 }, 1, '_k8')
  writeInterprotSae(dir, 4, { dIn: 16, dSae: 48 }, 2)
  writeSaelensSae(join(dir, 'blocks.0.hook_resid_post'), { dIn: 16, dSae: 24 }, 3, { architecture: 'standard' })
  hub = await startFakeHub()
  hub.addRepo({ id: REPO_ID, files: filesFromFolder(dir) })
  // the service reads HF_ENDPOINT when it lists or downloads
  process.env.HF_ENDPOINT = hub.url
  e2e = await startE2e({ indexed: true })
  page = await e2e.newPage()
  page.setDefaultTimeout(90_000)
  page.setDefaultNavigationTimeout(90_000)
}, 300_000)

afterAll(async () => {
  await e2e?.close()
  await hub?.close()
  if (endpointBefore === undefined) delete process.env.HF_ENDPOINT
  else process.env.HF_ENDPOINT = endpointBefore
  tmp.cleanup()
})

describe('the SAE picker', () => {
  it('lists the SAEs of a hub repository and adds the chosen one to the library', async () => {
    await page.goto(`${e2e.baseUrl}#/models`)
    await page.getByText('Add a model or SAE…').click()
    await page.getByPlaceholder('owner/name').fill(REPO_ID)
    await page.getByTestId('list-saes').click()
    const rows = page.getByTestId('sae-choice')
    await expect.poll(() => rows.count()).toBe(3)
    const cells = await rows.evaluateAll(trs =>
      trs.map(tr => [...tr.querySelectorAll('td')].slice(0, 6).map(td => td.textContent))
    )
    expect(cells).toEqual([
      ['blocks.0.hook_resid_post', 'saelens', '?', '?', '1', '?'],
      ['esm2_plm16_l2_sae32_k8.safetensors', 'interprot', '16', '32', '2', '8'],
      ['esm2_plm16_l4_sae48.safetensors', 'interprot', '16', '48', '4', '?']
    ])
    await rows.nth(2).getByRole('button', { name: 'Add' }).click()
    const id = `hub:${REPO_ID}/esm2_plm16_l4_sae48.safetensors`
    await expect
      .poll(async () => (await e2e.service.listModels({})).find(m => m.id === id))
      .toMatchObject({
        kind: 'sae',
        saeFormat: 'interprot',
        layer: 4,
        status: 'not-downloaded',
        source: { kind: 'hub', repo: REPO_ID, file: 'esm2_plm16_l4_sae48.safetensors' }
      })
    // the library table shows the new entry with its file
    await expect.poll(() => page.getByText(`${REPO_ID}/esm2_plm16_l4_sae48.safetensors`).count()).toBeGreaterThan(0)
    await e2e.screenshot(page, 'sae-picker')
    expect(e2e.pageErrors).toEqual([])
  })

  it('says what is wrong when the repository does not exist', async () => {
    await page.getByPlaceholder('owner/name').fill('someone/not-there')
    await page.getByTestId('list-saes').click()
    await expect
      .poll(() => page.getByTestId('sae-picker').getByRole('alert').textContent())
      .toMatch(/repository "someone\/not-there" was not found/)
  })
})
