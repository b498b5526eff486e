/**
 * End to end, the Steering view (browser mode, Debian's Chromium, the indexed demo project): a launch opens the
 * remembered project; pick a feature by search, set its slider, the live preview heat map shows the
 * probability shift the service computes for that clamp; generate 2 sequences in edit mode with a seed; the
 * results table shows them with their scores; the FASTA export records the clamp and the seed; the saved run
 * reopens from the runs list after a reload. Screenshot: test-results/screenshots/steering.png.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Download, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ClampSpec, SteeringRunRecord } from '../../src/shared/steering-types'
import { shiftColour, shiftMatrix } from '../../src/renderer/src/views/steering/shift-heatmap'
import { SCREENSHOTS, startE2e, type E2e } from './harness'

let e2e: E2e
let page: Page
let projectId: string

const PARENT = 'P69905' // HBA_HUMAN, 142 residues
const SEED = 7
const STANDARD = /^[ACDEFGHIKLMNPQRSTVWY]+$/

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

async function downloadOf(action: () => Promise<unknown>): Promise<{ name: string; text: string }> {
  const [download] = (await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), action()])) as [
    Download,
    unknown
  ]
  return { name: download.suggestedFilename(), text: readFileSync(await download.path(), 'utf8') }
}

/** The heat map on the page is the service's preview for these clamps: scale, changed positions, strongest cell. */
async function expectPreviewOf(sequence: string, clamps: ClampSpec[]): Promise<void> {
  const expected = shiftMatrix(await e2e.service.steeringPreview({ projectId, sequence, clamps }))
  expect(expected.maxAbs).toBeGreaterThan(0)
  await page.waitForFunction(
    m => document.querySelector('[data-testid="steering-preview"]')?.getAttribute('data-max-abs') === m,
    expected.maxAbs.toFixed(6),
    { timeout: 60_000 }
  )
  const preview = page.getByTestId('steering-preview')
  expect(await preview.getAttribute('data-residues')).toBe(String(sequence.length))
  expect(await preview.getAttribute('data-changed')).toBe(String(expected.changedArgmax.length))
  expect(await preview.textContent()).toContain(
    `most likely residue changes at ${expected.changedArgmax.length} of ${sequence.length} positions`
  )
  // One cell per residue and amino acid (+ one tick per changed position).
  const A = expected.aminoAcids.length
  expect(await preview.locator('svg rect').count()).toBe(sequence.length * A + expected.changedArgmax.length)
  // The strongest shift: its cell says the value and has the saturated colour.
  let best = 0
  for (let i = 1; i < expected.delta.length; i++)
    if (Math.abs(expected.delta[i]) > Math.abs(expected.delta[best])) best = i
  const r = Math.floor(best / A)
  const aa = expected.aminoAcids[best % A]
  const d = expected.delta[best]
  const title = `residue ${r + 1} (${sequence[r]}) → ${aa}: ${d >= 0 ? '+' : ''}${d.toFixed(4)}`
  const cell = preview.locator('svg rect', { has: page.locator('title', { hasText: title }) })
  expect(await cell.count()).toBe(1)
  expect(await cell.getAttribute('fill')).toBe(shiftColour(d, expected.maxAbs))
  expect(shiftColour(d, expected.maxAbs)).toMatch(d > 0 ? /^rgb\(255,40,40\)$/ : /^rgb\(40,90,255\)$/)
}

function identity(a: string, b: string): number {
  let same = 0
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++
  return same / a.length
}

describe('steering view', () => {
  let feature: number
  let value: number
  let parentSequence: string
  let run: SteeringRunRecord

  it('a launch opens the remembered project in the feature browser', async () => {
    await page.goto(e2e.baseUrl)
    await page.waitForURL(/#\/features$/, { timeout: 30_000 })
    await page.locator('[data-testid="view-features"]').waitFor()
    expect(await page.getByTestId('current-project').textContent()).toBe('Demo: 100 Swiss-Prot proteins (demo)')
  })

  it('picks a feature by search, sets its slider, and previews the shift as a heat map', async () => {
    await page.getByTestId('nav-steering').click()
    await page.getByTestId('steering-view').waitFor()
    // Search: the results are the store's alive features matching the text, strongest first.
    const expected = await e2e.service.listFeatures({
      projectId,
      text: 'metal',
      status: 'alive',
      sort: { key: 'max', dir: 'desc' },
      limit: 12
    })
    expect(expected.items.length).toBeGreaterThan(0)
    await page.getByTestId('steer-feature-search').fill('metal')
    await page.waitForFunction(
      n => document.querySelectorAll('[data-testid="steer-feature-result"]').length === n,
      expected.items.length,
      { timeout: 30_000 }
    )
    const first = page.getByTestId('steer-feature-result').first()
    expect(await first.textContent()).toMatch(new RegExp(`^f${expected.items[0].id}\\b`))
    await first.click()
    feature = expected.items[0].id
    // Adding a feature clears the search, ready for the next one.
    await page.waitForFunction(
      () => (document.querySelector('[data-testid="steer-feature-search"]') as HTMLInputElement).value === ''
    )
    expect(await page.getByTestId('steer-feature-result').count()).toBe(0)
    const clamp = page.locator(`[data-testid="steer-clamp"][data-feature="${feature}"]`)
    await clamp.waitFor()
    // The slider's scale is the feature's max activation in the project (absolute mode: 0 .. 3 × max).
    const slider = clamp.getByTestId('steer-slider')
    const max = expected.items[0].max
    expect(Number(await slider.getAttribute('max'))).toBeCloseTo(3 * max, 6)
    expect(Number(await slider.inputValue())).toBeCloseTo(max, 6)
    await slider.fill(String(await slider.getAttribute('max')))
    value = Number(await slider.inputValue())
    expect(value).toBeCloseTo(3 * max, 6)
    expect(Number(await clamp.locator('input.steer-value').inputValue())).toBeCloseTo(value, 3)

    // The starting protein, picked from the project.
    parentSequence = (await e2e.service.proteinDetail({ projectId, protein: PARENT })).sequence
    await page.getByTestId('protein-search').fill(PARENT)
    await page.locator(`[data-testid="protein-row"][data-accession="${PARENT}"]`).click()
    await page.getByText(`${PARENT} · ${parentSequence.length} aa`).waitFor()

    // The live preview: the heat map of the service's steered − unsteered probabilities for this clamp.
    await expectPreviewOf(parentSequence, [{ feature, mode: 'absolute', value }])
    // Moving the slider recomputes it.
    await slider.fill(String(1.5 * max))
    const half = Number(await slider.inputValue())
    expect(half).toBeCloseTo(1.5 * max, 4)
    await expectPreviewOf(parentSequence, [{ feature, mode: 'absolute', value: half }])
    await slider.fill(String(value))
    expect(Number(await slider.inputValue())).toBe(value)
    await expectPreviewOf(parentSequence, [{ feature, mode: 'absolute', value }])
  }, 180_000)

  it('generates 2 sequences in edit mode with a seed and shows their scores', async () => {
    expect(await page.getByTestId('steer-mode').inputValue()).toBe('edit')
    await page.getByTestId('steer-n').fill('2')
    await page.getByTestId('steer-seed').fill(String(SEED))
    await page.getByTestId('steer-generate').click()
    const results = page.getByTestId('steer-results')
    await results.waitFor({ timeout: 180_000 })
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="steer-result-row"][data-parent="false"]').length === 2,
      undefined,
      { timeout: 30_000 }
    )
    const runId = (await results.getAttribute('data-run-id'))!
    run = await e2e.service.steeringRun({ projectId, runId })
    // What the view asked for.
    // Edit mode defaults to argmax (temperature 0): what the preview shows is what comes out.
    expect(run.settings).toMatchObject({ mode: 'edit', n: 2, seed: SEED, temperature: 0 })
    expect(run.clamps).toEqual([{ feature, mode: 'absolute', value }])
    expect(run.parent).toEqual({ id: PARENT, sequence: parentSequence })
    expect(run.sequences).toHaveLength(2)
    for (const s of run.sequences) {
      expect(s.sequence).toMatch(STANDARD)
      expect(s.sequence).toHaveLength(parentSequence.length)
      // Identity to the parent, counted here independently.
      expect(s.scores.identity).toBeCloseTo(identity(s.sequence, parentSequence), 10)
      expect(s.scores.featureActivation.map(f => f.feature)).toEqual([feature])
    }
    // The table: the parent row, then one row per sequence with its identity and the re-encoded activation.
    const header = await results.locator('thead th').allTextContents()
    expect(header.slice(0, 4)).toEqual(['id', 'identity', 'PLL / residue', `f${feature} (re-encoded)`])
    const rows = results.locator('[data-testid="steer-result-row"][data-parent="false"]')
    for (let i = 0; i < 2; i++) {
      const cells = await rows.nth(i).locator('td').allTextContents()
      const s = run.sequences[i]
      expect(cells[0]).toBe(s.id)
      expect(cells[1]).toBe(`${(100 * s.scores.identity!).toFixed(1)}%`)
      expect(cells[2]).toBe('–')
      expect(cells[3]).toMatch(/^-?\d/)
      expect(cells[4]).toBe(`${s.sequence.slice(0, 60)}…`)
    }
    expect(await results.locator('[data-testid="steer-result-row"][data-parent="true"] td').first().textContent()).toBe(
      `parent ${PARENT}`
    )
    expect(await results.textContent()).toContain(`seed ${SEED}`)
    // The demo models are recorded under the library's names (random weights), never as the real ESM2-8M.
    expect(run.provenance).toMatchObject({
      model: 'Demo ESM2 (random weights)',
      sae: 'Demo SAE (random weights)',
      layer: 4
    })
    expect(await results.textContent()).toContain(
      'Demo ESM2 (random weights) + Demo SAE (random weights) at layer 4 · edit'
    )
    // The same request with the same seed gives the same sequences.
    const again = await e2e.service.startSteering({
      projectId,
      start: { id: PARENT, sequence: parentSequence },
      clamps: run.clamps,
      settings: run.settings,
      pll: false
    })
    expect((await e2e.service.jobs.waitFor(again.job.id)).state).toBe('done')
    expect((await e2e.service.steeringRun({ projectId, runId: again.runId })).sequences.map(s => s.sequence)).toEqual(
      run.sequences.map(s => s.sequence)
    )
    // The view scrolls inside the app's main area: a tall viewport shows the panels, the heat map and the results.
    await page.setViewportSize({ width: 1400, height: 1500 })
    await page.screenshot({ path: join(SCREENSHOTS, 'steering.png') })
    await page.setViewportSize({ width: 1400, height: 900 })
  }, 300_000)

  it('compares a result with its parent as an alignment with the changed residues marked, and copies full sequences', async () => {
    const s = run.sequences[0]
    await page.getByTestId('steer-compare-button').first().click()
    const diff = page.getByTestId('steer-diff')
    await diff.waitFor()
    // Changed positions counted here independently (edit mode keeps the length: column i is residue i + 1).
    const changed: number[] = []
    for (let i = 0; i < s.sequence.length; i++) if (s.sequence[i] !== parentSequence[i]) changed.push(i + 1)
    expect(Number(await diff.getAttribute('data-changed'))).toBe(changed.length)
    const marked = await page
      .getByTestId('steer-diff-changed')
      .evaluateAll(els => els.map(e => Number(e.getAttribute('data-position'))))
    expect(marked).toEqual(changed)
    // Copy: the whole sequence, not the 60 residues the table shows.
    await page
      .context()
      .grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(e2e.baseUrl).origin })
    await page.bringToFront() // the clipboard serves the focused page only
    await page
      .locator('[data-testid="steer-result-row"][data-parent="false"]')
      .first()
      .getByTestId('steer-copy')
      .click()
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText()), { timeout: 30_000 }).toBe(s.sequence)
  }, 120_000)

  it('exports FASTA whose headers record the clamp, the mode and the seed', async () => {
    const fasta = await downloadOf(() => page.getByTestId('steer-export-fasta').click())
    expect(fasta.name).toBe(`steering-${run.id}.fasta`)
    const records = fasta.text.split(/^>/m).filter(r => r.trim() !== '')
    expect(records).toHaveLength(2)
    records.forEach((rec, i) => {
      const [header, ...lines] = rec.trim().split('\n')
      const s = run.sequences[i]
      expect(header.split(' ')[0]).toBe(s.id)
      expect(header).toContain(` clamps=${feature}:absolute:${value} `)
      expect(header).toContain(' model=Demo_ESM2_(random_weights) ')
      expect(header).toContain(' sae=Demo_SAE_(random_weights) ')
      expect(header).toContain(' layer=4 ')
      expect(header).toContain(' mode=edit ')
      expect(header).toContain(` seed=${SEED} `)
      expect(header).toContain(' n=2 ')
      expect(header).toContain(` parent=${PARENT} `)
      expect(header).toContain(` identity=${Number(s.scores.identity!.toFixed(4))}`)
      expect(header).toMatch(new RegExp(` f${feature}=-?\\d`))
      expect(lines.join('')).toBe(s.sequence)
    })
  })

  it('reopens the saved run from the runs list', async () => {
    await page.reload()
    await page.getByTestId('steering-view').waitFor()
    const select = page.getByTestId('steer-runs')
    await select.locator(`option[value="${run.id}"]`).waitFor({ state: 'attached', timeout: 30_000 })
    expect(await select.locator('option').count()).toBe(3) // the placeholder + the view's run + the API's rerun
    expect(await select.locator(`option[value="${run.id}"]`).textContent()).toMatch(
      new RegExp(`edit × 2 · f${feature} · from ${PARENT}`)
    )
    expect(await page.getByTestId('steer-results').count()).toBe(0)
    await select.selectOption(run.id)
    await page.locator(`[data-testid="steer-results"][data-run-id="${run.id}"]`).waitFor()
    const rows = page.locator('[data-testid="steer-result-row"][data-parent="false"]')
    expect(await rows.count()).toBe(2)
    for (let i = 0; i < 2; i++)
      expect(await rows.nth(i).locator('td.steer-seq').getAttribute('title')).toBe(run.sequences[i].sequence)
  })

  it('logged no page errors', () => {
    expect(e2e.pageErrors.filter(e => !/favicon/.test(e))).toEqual([])
  })
})
