/**
 * End to end (browser mode, Debian's Chromium, the indexed demo project: 100 annotated Swiss-Prot entries):
 * the feature browser ranked by InterPLM's F1 with generated labels in the label column, and the concept
 * report view on pasted sequences, each checked against the service's answer to the same request.
 */
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startE2e, type E2e } from './harness'

let e2e: E2e
let page: Page
let projectId: string

beforeAll(async () => {
  e2e = await startE2e({ indexed: true })
  await e2e.waitForIndexed()
  projectId = (await e2e.service.listProjects({}))[0].id
  page = await e2e.newPage()
  page.setDefaultTimeout(90_000)
}, 300_000)

afterAll(async () => {
  await e2e?.close()
})

describe('concepts in the app', () => {
  it('ranks features by InterPLM F1 and shows generated labels where none was written', async () => {
    await page.goto(`${e2e.baseUrl}#/features`)
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="feature-table"]')?.getAttribute('data-rows')) > 0,
      undefined,
      { timeout: 60_000 }
    )
    await page.getByTestId('feature-metric').selectOption('domain')
    await page.getByRole('columnheader', { name: 'F1 dom.' }).click()
    const expected = await e2e.service.listFeatures({ projectId, sort: { key: 'bestF1Domain', dir: 'desc' }, limit: 1 })
    await page.waitForFunction(
      first =>
        document.querySelector('[data-testid="feature-table"] .vt-row[data-row-index="0"] [role="cell"]')
          ?.textContent === `#${first}`,
      expected.items[0].id,
      { timeout: 30_000 }
    )
    const generated = page.getByTestId('generated-label').first()
    const text = await generated.textContent()
    expect(text).toMatch(/^gen /)
    const listed = expected.items[0].label ? undefined : expected.items[0].generatedLabel
    if (listed)
      expect(await page.locator('[data-testid="feature-table"] .vt-row[data-row-index="0"]').textContent()).toContain(
        listed
      )
  })

  it('reports the concepts the features predict on pasted sequences, and the family features', async () => {
    const proteins = await e2e.service.listProteins({ projectId, limit: 2 })
    const seqs = await Promise.all(proteins.items.map(p => e2e.service.proteinDetail({ projectId, protein: p.id })))
    const text = seqs.map(p => `>${p.accession}\n${p.sequence}`).join('\n')
    const expected = await e2e.service.conceptReport({ projectId, text })
    await page.goto(`${e2e.baseUrl}#/concept-report`)
    await page.getByTestId('concept-report-input').fill(text)
    await page.getByTestId('concept-report-run').click()
    await page.getByTestId('concept-report-summary').waitFor({ timeout: 120_000 })
    expect(await page.getByTestId('concept-report-summary').textContent()).toContain(
      `${expected.predictors.toLocaleString('en-US')} features predict concepts`
    )
    expect(await page.getByTestId('concept-report-sequence').count()).toBe(2)
    expect(await page.getByTestId('concept-report-family').locator('tbody tr').count()).toBe(
      expected.family!.features.length
    )
    await e2e.screenshot(page, 'concept-report')
  })
})
