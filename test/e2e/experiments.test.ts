/**
 * End to end, the Experiments view (browser mode, Debian's Chromium, the indexed demo project): from a
 * feature's page, "Experiment…" opens the builder with that feature; a small design (one protein, edit mode,
 * 2 doses, 1 random control, no PLL) runs as a job; the results show the clamp-set summary, the three d3 plots
 * and a row per condition whose means are the service's; a sequence opens in the protein view beside its
 * start; the HTML report downloads self-contained. Screenshot: test-results/screenshots/experiments.png.
 */
import { readFileSync } from 'node:fs'
import type { Download, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startE2e, type E2e } from './harness'

let e2e: E2e
let page: Page
let projectId: string
const PARENT = 'P69905'

beforeAll(async () => {
  e2e = await startE2e({ indexed: true })
  await e2e.waitForIndexed()
  projectId = (await e2e.service.listProjects({}))[0].id
  page = await e2e.newPage()
  page.setDefaultTimeout(60_000)
}, 400_000)

afterAll(async () => {
  await e2e?.close()
})

describe('experiments view', () => {
  it('builds an experiment from a feature page, runs it, and shows plots, statistics and sequences', async () => {
    const feature = (
      await e2e.service.listFeatures({ projectId, status: 'alive', sort: { key: 'max', dir: 'desc' }, limit: 1 })
    ).items[0].id
    await page.goto(`${e2e.baseUrl}#/feature-detail?feature=${feature}`)
    await page.getByTestId('experiment-this-feature').click()
    await page.getByTestId('experiment-builder').waitFor()
    expect(await page.getByTestId('exp-set-features').first().inputValue()).toBe(String(feature))
    await page.getByTestId('exp-accessions').fill(PARENT)
    await page.getByTestId('exp-mode').selectOption('edit')
    await page.getByTestId('exp-n').fill('3')
    await page.getByTestId('exp-doses').fill('1, 4')
    await page.getByTestId('exp-ablation').uncheck()
    await page.getByTestId('exp-random-draws').fill('1')
    await page.getByTestId('exp-pll').selectOption('off')
    await page.getByTestId('exp-start').click()
    await page.getByTestId('exp-job').waitFor()
    const results = page.getByTestId('experiment-results')
    await results.waitFor({ timeout: 300_000 })
    const [info] = await e2e.service.listExperiments({ projectId })
    const summary = await e2e.service.experimentSummary({ projectId, experimentId: info.id })
    expect(summary.conditions.map(c => c.condition.key)).toEqual([
      'control/none',
      'set1/dose1',
      'set1/dose2',
      'set1/random1'
    ])
    for (const name of ['dose-response-targetActivation', 'distribution-targetActivation', 'screening-f1-vs-effect']) {
      expect(await page.getByTestId(`exp-plot-${name}`).locator('svg').count()).toBe(1)
    }
    // the dose-response plot has one point per dose with the service's mean in its title
    const dose4 = summary.conditions[2].outcomes.targetActivation!
    expect(
      await page.getByTestId('exp-plot-dose-response-targetActivation').locator('circle title').allTextContents()
    ).toContain(
      `${summary.clampSets[0].name} × 4: ${dose4.mean.toFixed(3)} [${dose4.ci.lo.toFixed(3)}, ${dose4.ci.hi.toFixed(3)}] p=${dose4.p!.toPrecision(2)}`
    )
    await page.getByTestId('exp-sequences').locator('tbody tr').first().waitFor()
    expect(await page.getByTestId('exp-sequences').locator('tbody tr').count()).toBe(3)
    await page.getByTestId('exp-open-sequence').first().click()
    await page.getByTestId('exp-compare').waitFor()
    await e2e.screenshot(page, 'experiments')
    const [download] = (await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('exp-export-html').click()
    ])) as [Download, unknown]
    const html = readFileSync(await download.path(), 'utf8')
    expect(html).toContain(`<code>${info.id}</code>`)
    expect(html).not.toMatch(/<script|src="http/)
    expect(e2e.pageErrors).toEqual([])
  }, 600_000)
})
