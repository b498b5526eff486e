/**
 * End to end (browser mode, Debian's Chromium, the indexed demo project: 100 annotated Swiss-Prot entries):
 * the feature browser ranked by InterPLM's F1 with generated labels in the label column, and the concept
 * report view on pasted sequences, each checked against the service's answer to the same request; concepts split
 * by note with a minimum instance count, chosen in the project's concept settings and applied by re-indexing, with
 * the split concepts' names in the feature detail's concept table and the browser's concept chips.
 */
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startE2e, type E2e } from './harness'
import { ANNOTATION_LABELS } from '../../src/shared/store-types'

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

  it('splits concepts by note from the project settings and names split concepts in the table and chips', async () => {
    const indexJobs = async () => (await e2e.service.listJobs({})).filter(j => j.kind === 'index')
    const before = (await indexJobs()).length
    await page.goto(`${e2e.baseUrl}#/models`)
    const settings = page.getByTestId('project-concept-settings').first()
    await settings.getByTestId('project-concept-summary').click()
    await settings.getByTestId('project-concept-split-types').selectOption(['metal', 'binding_site'])
    await settings.getByTestId('project-concept-split-min').fill('2')
    await settings.getByTestId('project-concept-reindex').click()
    // the re-index keeps the latents and recomputes the statistics with the new scoring
    await expect
      .poll(async () => (await indexJobs()).filter(j => j.state !== 'running' && j.state !== 'queued').length, {
        timeout: 240_000,
        interval: 1000
      })
      .toBe(before + 1)
    expect((await indexJobs()).at(-1)!.state).toBe('done')
    const project = (await e2e.service.listProjects({})).find(p => p.id === projectId)!
    expect(project.conceptSplit).toEqual({ splitTypes: ['binding_site', 'metal'], minInstances: 2 })
    await page.reload()
    await page.getByTestId('project-concept-summary').first().waitFor()
    expect(await page.getByTestId('project-concept-summary').first().textContent()).toBe(
      'Concepts: split Binding site, Metal binding, ≥ 2 instances'
    )

    // the service's split concepts: a feature whose concept table lists one, and one whose best concept is one
    const features = (await e2e.service.listFeatures({ projectId, status: 'alive', limit: 20_000 })).items
    const nameOf = (c: { type: keyof typeof ANNOTATION_LABELS; note?: string }) =>
      c.note ? `${ANNOTATION_LABELS[c.type]}: ${c.note}` : ANNOTATION_LABELS[c.type]
    let withSplit: { feature: number; name: string; instances: number } | undefined
    for (const f of features.slice(0, 300)) {
      const d = await e2e.service.featureDetail({ projectId, feature: f.id })
      expect(d.conceptScoring).toEqual({
        falsePositives: 'annotated',
        splitTypes: ['binding_site', 'metal'],
        minInstances: 2
      })
      const c = d.concepts.find(x => x.note)
      if (c) {
        withSplit = { feature: f.id, name: nameOf(c), instances: c.domain!.instances }
        break
      }
    }
    expect(withSplit).toBeDefined()
    expect(withSplit!.instances).toBeGreaterThanOrEqual(2)
    await page.goto(`${e2e.baseUrl}#/feature-detail?feature=${withSplit!.feature}`)
    await page.getByTestId('concept-scoring').waitFor()
    expect(await page.getByTestId('concept-scoring').textContent()).toContain(
      'split by note: Binding site, Metal binding'
    )
    await page.getByRole('cell', { name: withSplit!.name, exact: true }).first().waitFor({ timeout: 30_000 })

    // the project's structures (2HHB: the demo's haemoglobins) reach the label cards through the index job
    let with3d: { feature: number; chains: string[]; text: string } | undefined
    for (const f of features) {
      const card = (await e2e.service.featureDetail({ projectId, feature: f.id })).labelCard
      if (card?.structure) {
        with3d = { feature: f.id, chains: card.structure.chains, text: card.text }
        break
      }
    }
    expect(with3d).toBeDefined()
    expect(with3d!.chains.every(c => /^2HHB:[A-D]$/.test(c))).toBe(true)
    expect(with3d!.text).toMatch(
      /(clusters in 3D|no 3D clustering) \(mean CA distance [\d.]+ Å vs [\d.]+ Å expected; \d+ structures?\)/
    )
    await page.goto(`${e2e.baseUrl}#/feature-detail?feature=${with3d!.feature}`)
    await page.getByTestId('label-card-3d').waitFor({ timeout: 30_000 })
    expect(await page.getByTestId('label-card-3d').textContent()).toContain(`on ${with3d!.chains.join(', ')}`)

    const best = features.find(f => f.bestConcept?.note)
    expect(best).toBeDefined()
    await page.goto(`${e2e.baseUrl}#/features`)
    await page.getByTestId('feature-metric').selectOption('residue')
    await page.getByTestId('feature-search').fill(String(best!.id))
    await page.waitForFunction(
      ([id, name]) => {
        const row = document.querySelector('[data-testid="feature-table"] .vt-row[data-row-index="0"]')
        return (
          row?.querySelector('[role="cell"]')?.textContent === `#${id}` &&
          row.querySelector('[data-testid="concept-chip"]')?.textContent === name
        )
      },
      [best!.id, nameOf(best!.bestConcept!)] as const,
      { timeout: 30_000 }
    )
    await e2e.screenshot(page, 'concepts-split-by-note')
  }, 400_000)
})
