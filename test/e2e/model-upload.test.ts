/**
 * End to end, browser mode: a local ESM2 folder (random weights, written by the checkpoint fixture) is uploaded
 * from the Models & projects view ("Upload a folder…", the directory input) to `plm-sae serve` with its token,
 * and appears in the model library as a ready entry. Real Chromium, real server, real files.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeHfCheckpoint } from '../fixtures/esm2-checkpoint'
import { tempDir } from '../helpers/tmp'
import { startE2e, type E2e } from './harness'

let e2e: E2e
let page: Page
let tmp: { dir: string; cleanup: () => void }

beforeAll(async () => {
  tmp = tempDir('upload-e2e')
  e2e = await startE2e({ firstRunDemo: false })
  page = await e2e.newPage()
})

afterAll(async () => {
  await e2e?.close()
  tmp?.cleanup()
})

describe('browser mode: upload a model folder', () => {
  it('uploads an ESM2 folder through the directory input and lists it as ready', async () => {
    const folder = join(tmp.dir, 'my-esm2-tiny')
    writeHfCheckpoint(folder, 'tiny', 11)
    await page.goto(e2e.baseUrl)
    const panel = page.getByTestId('library-panel')
    await panel.waitFor()
    const upload = page.getByTestId('folder-upload')
    await upload.locator('summary').click()
    await upload.locator('select').selectOption('esm2')
    await page.getByTestId('folder-upload-input').setInputFiles(folder)
    const files = readdirSync(folder)
    await expect
      .poll(() => page.getByTestId('folder-upload-summary').textContent())
      .toMatch(new RegExp(`^${files.length} files to send`))
    expect(await upload.locator('input[maxlength="200"]').inputValue()).toBe('my-esm2-tiny')
    // Every label the progress bar shows while the files go up (bytes, rate).
    await page.evaluate(() => {
      const seen: string[] = []
      ;(window as unknown as { uploadLabels: string[] }).uploadLabels = seen
      new MutationObserver(() => {
        const label = document.querySelector('[data-testid="folder-upload-progress"]')?.textContent
        if (label && seen[seen.length - 1] !== label) seen.push(label)
      }).observe(document.body, { subtree: true, childList: true, characterData: true })
    })
    await upload.getByRole('button', { name: 'Upload and add' }).click()
    const row = page.locator('[data-testid="model-row"][data-model-id^="upload:"]')
    await row.waitFor({ timeout: 60_000 })
    expect(await row.textContent()).toMatch(/my-esm2-tiny/)
    expect(await row.getByTestId('model-status').textContent()).toBe('ready')
    await e2e.screenshot(page, 'models-uploaded-folder')
    const labels = await page.evaluate(() => (window as unknown as { uploadLabels: string[] }).uploadLabels)
    expect(
      labels.some(l => /: [\d.]+ kB of [\d.]+ kB · [\d.]+ (?:B|kB|MB)\/s/.test(l)),
      labels.join(' | ')
    ).toBe(true)
    // the form starts empty again
    expect(await page.getByTestId('folder-upload-input').evaluate(el => (el as HTMLInputElement).files?.length)).toBe(0)
    // The server holds the same bytes, in the library's upload folder; nothing is left in the incoming area.
    const entry = e2e.service.models.list().find(m => m.source.kind === 'upload')
    expect(entry?.status).toBe('ready')
    for (const f of files)
      expect(readFileSync(join(entry!.localPath!, f)).equals(readFileSync(join(folder, f))), f).toBe(true)
    expect(readdirSync(e2e.service.uploads.incomingRoot)).toEqual([])
    expect(e2e.pageErrors).toEqual([])
  })
})
