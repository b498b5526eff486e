/**
 * End to end, browser mode: `plm-sae serve` (in-process) on a fresh data folder, driven by Debian's Chromium.
 * First start: the demo project is created and indexed automatically (demo models, real store); the Models &
 * projects view shows the execution provider, the index job's progress, the project's disk use; then every
 * view opens. Screenshots go to test-results/screenshots/.
 */
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startE2e, type E2e } from './harness'

let e2e: E2e
let page: Page

beforeAll(async () => {
  e2e = await startE2e()
  page = await e2e.newPage()
})

afterAll(async () => {
  await e2e?.close()
})

describe('browser mode, first start', () => {
  it('opens on the Models & projects view with the execution provider and the demo project', async () => {
    await page.goto(e2e.baseUrl)
    await page.getByTestId('provider-badge').waitFor()
    // No GPU on this machine: the indicator says CPU, and the provider panel says why / which threads.
    expect(await page.getByTestId('provider-badge').textContent()).toBe('CPU')
    expect(await page.getByTestId('provider-summary').textContent()).toMatch(/^CPU — CPU \(/)
    await page.getByTestId('project-row').first().waitFor()
    expect(await page.getByTestId('project-row').count()).toBe(1)
    expect(await page.getByTestId('project-row').first().textContent()).toMatch(/Demo: 100 Swiss-Prot proteins.*demo/)
    expect(await page.getByTestId('current-project').textContent()).toBe('Demo: 100 Swiss-Prot proteins (demo)')
    // The demo models are in the library, clearly labelled as random weights.
    const demoRows = page.locator('[data-testid="model-row"][data-model-id^="demo:"]')
    expect(await demoRows.count()).toBe(2)
    for (const text of await demoRows.allTextContents()) expect(text).toMatch(/random weights/)
  })

  it('shows the demo index job with a moving progress bar, then done', async () => {
    const job = page.locator('[data-testid="job"][data-job-kind="index"]')
    await job.waitFor()
    expect(await job.locator('.job-title').textContent()).toMatch(
      /Index "Demo: 100 Swiss-Prot proteins" with Demo ESM2 \(random weights\) \+ Demo SAE \(random weights\)/
    )
    // Progress arrives over server-sent events while the job runs in its worker thread.
    await page.waitForFunction(
      () => {
        const bar = document.querySelector('[data-testid="job"][data-job-kind="index"] [data-testid="job-progress"]')
        const now = Number(bar?.getAttribute('aria-valuenow') ?? 0)
        return /computing latents/.test(bar?.textContent ?? '') && now > 0 && now < 100
      },
      undefined,
      { timeout: 180_000, polling: 200 }
    )
    await e2e.screenshot(page, 'models-indexing')
    const label = await job.getByTestId('job-progress').textContent()
    expect(label).toMatch(/computing latents: [\d,]+ \/ [\d,]+ residues/)
    // The service stays responsive while the worker indexes.
    const t0 = Date.now()
    const projects = await page.evaluate(async () =>
      (
        await fetch('api/listProjects', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
      ).json()
    )
    expect(Date.now() - t0).toBeLessThan(5000)
    expect(projects).toHaveLength(1)

    await e2e.waitForIndexed()
    // The first indexing done, the app opens the feature browser on the demo project.
    await page.locator('[data-testid="view-features"]').waitFor({ timeout: 20_000 })
    expect(page.url()).toContain('#/features')
    await page.getByTestId('nav-models').click()
    await page.locator('[data-testid="job"][data-job-kind="index"][data-job-state="done"]').waitFor({ timeout: 10_000 })
    await page.waitForFunction(
      () => document.querySelector('[data-testid="project-status"]')?.textContent === 'indexed',
      undefined,
      { timeout: 10_000 }
    )
    const row = await page.getByTestId('project-row').first().textContent()
    expect(row).toMatch(/100.*Demo ESM2 \(random weights\) \+ Demo SAE \(random weights\) \(4\)/)
    expect(row).toMatch(/2,048/)
    expect(row).toMatch(/\d+(\.\d+)? MB/)
    await e2e.screenshot(page, 'models-indexed')
  }, 240_000)

  it('navigates to every view without errors', async () => {
    const views: { nav: string; ready: string }[] = [
      { nav: 'features', ready: '[data-testid="view-features"]' },
      { nav: 'feature-detail', ready: '[data-testid="view-feature-detail"]' },
      { nav: 'protein', ready: '[data-testid="view-protein"]' },
      { nav: 'structure', ready: '[data-testid="view-structure"]' },
      { nav: 'steering', ready: '[data-testid="view-steering"]' },
      { nav: 'models', ready: '[data-testid="view-models"]' }
    ]
    for (const v of views) {
      await page.getByTestId(`nav-${v.nav}`).click()
      await page.locator(v.ready).waitFor()
      expect(page.url()).toContain(`#/${v.nav}`)
      await page.waitForTimeout(500)
      expect(await page.getByText('This view failed').count(), `${v.nav} failed to render`).toBe(0)
      await e2e.screenshot(page, `view-${v.nav}`)
    }
    // The hash is the route: a reload stays on the view.
    await page.goto(`${e2e.baseUrl}#/protein`)
    await page.locator('[data-testid="view-protein"]').waitFor()
    expect(await page.getByTestId('nav-protein').getAttribute('aria-current')).toBe('page')
  })

  it("checks an SAE's fit from the model library and keeps it with the entry", async () => {
    await page.getByTestId('nav-models').click()
    const row = page.locator('[data-testid="model-row"][data-model-id="demo:sae"]')
    await row.getByTestId('check-fit').click()
    // a job with progress, then the fit at the SAE's layer in the row, as the service kept it
    await page.locator('[data-testid="job"][data-job-kind="sae-fit"]').waitFor()
    await row.getByTestId('sae-fit-summary').waitFor({ timeout: 240_000 })
    const fit = (await e2e.service.listModels({})).find(m => m.id === 'demo:sae')!.fit!
    const at = fit.layers.find(l => l.layer === 4)!
    expect(fit).toMatchObject({ modelId: 'demo:esm2', sample: 'the demo set', declaredLayer: 4 })
    const summary = await row.getByTestId('sae-fit-summary').textContent()
    expect(summary).toContain(
      `Layer 4 on Demo ESM2 (random weights): FVU ${at.fvu.toFixed(3)}, cosine ${at.cosine.toFixed(3)}, L0 ${at.l0.toFixed(1)}, ${at.recoveredVsZero.toFixed(1)}% of the masked-LM loss recovered (${fit.proteins} ${fit.proteins === 1 ? 'protein' : 'proteins'} of the demo set)`
    )
    for (const w of fit.warnings) expect(summary).toContain(w)
    expect(await row.getByTestId('check-fit').textContent()).toBe('Check the fit again')
    await e2e.screenshot(page, 'models-sae-fit')
  }, 300_000)

  it('compares every layer before indexing and shows the warning with the numbers; indexing stays possible', async () => {
    await page.getByTestId('nav-models').click()
    await page.getByText('New project…').click()
    await page.getByTestId('compare-layers').click()
    // the job's progress in the form (the SAE's library row shows it too)
    await page.getByTestId('layer-comparison').getByTestId('fit-progress').waitFor()
    await page.getByTestId('layer-fit-table').waitFor({ timeout: 400_000 })
    const fit = (await e2e.service.listModels({})).find(m => m.id === 'demo:sae')!.fit!
    expect(fit.layers.map(l => l.layer)).toEqual([0, 1, 2, 3, 4, 5, 6])
    const rows = page.getByTestId('layer-fit-row')
    expect(await rows.count()).toBe(7)
    for (const l of fit.layers) {
      const cells = await page.locator(`[data-testid="layer-fit-row"][data-layer="${l.layer}"] td`).allTextContents()
      expect(cells.slice(1)).toEqual([
        l.fvu.toFixed(3),
        l.cosine.toFixed(3),
        l.l0.toFixed(1),
        `${l.recoveredVsZero.toFixed(1)}%`
      ])
    }
    // random weights fit no layer: the warning says so with the numbers of the best layer
    expect(fit.warnings.length).toBeGreaterThan(0)
    const warnings = await page.getByTestId('layer-comparison').getByTestId('fit-warnings').textContent()
    for (const w of fit.warnings) expect(warnings).toContain(w)
    const best = fit.layers.find(l => l.layer === fit.bestLayer)!
    expect(warnings).toContain(`layer ${best.layer}: FVU ${best.fvu.toFixed(3)}`)
    expect(await page.getByRole('button', { name: 'Create and index' }).isEnabled()).toBe(true)
    await e2e.screenshot(page, 'models-layer-comparison')
    await page.getByText('New project…').click()
  }, 500_000)

  it('creates a project from a FASTA file, cancels its index job, then indexes it', async () => {
    await page.getByTestId('nav-models').click()
    await page.getByText('New project…').click()
    await page.getByPlaceholder('my proteins').fill('Three globins')
    const fasta = [
      '>sp|P69905|HBA_HUMAN Hemoglobin subunit alpha',
      'MVLSPADKTNVKAAWGKVGAHAGEYGAEALERMFLSFPTTKTYFPHFDLSHGSAQVKGHGKKVADALTNAVAHVDDMPNALSALSDLHAHKLRVDPVNFKLLSHCLLVTLAAHLPAEFTPAVHASLDKFLASVSTVLTSKYR',
      '>sp|P68871|HBB_HUMAN Hemoglobin subunit beta',
      'MVHLTPEEKSAVTALWGKVNVDEVGGEALGRLLVVYPWTQRFFESFGDLSTPDAVMGNPKVKAHGKKVLGAFSDGLAHLDNLKGTFATLSELHCDKLHVDPENFRLLGNVLVCVLAHHFGKEFTPPVQAAYQKVVAGVANALAHKYH',
      '>sp|P62988|UBIQ_HUMAN Ubiquitin',
      'MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG',
      ''
    ].join('\n')
    await page
      .getByTestId('new-project-file')
      .setInputFiles({ name: 'globins.fasta', mimeType: 'text/plain', buffer: Buffer.from(fasta) })
    await page.getByRole('button', { name: 'Create and index' }).click()
    const row = page.locator('[data-testid="project-row"]', { hasText: 'Three globins' })
    await row.waitFor()
    expect(await row.textContent()).toMatch(/Three globins.*3/)
    // Its index job appears; cancel it from the jobs list.
    const job = page.locator('[data-testid="job"]', { hasText: 'Index "Three globins"' })
    await job.waitFor()
    await job.getByTestId('job-cancel').click()
    await page
      .locator('[data-testid="job"][data-job-state="cancelled"]', { hasText: 'Index "Three globins"' })
      .waitFor({ timeout: 30_000 })
    expect(await row.getByTestId('project-status').textContent()).toBe('not indexed')
    // Index again: it runs to the end, and (its first indexing) the feature browser opens on it.
    await row.getByRole('button', { name: 'Index' }).click()
    await page.locator('[data-testid="view-features"]').waitFor({ timeout: 60_000 })
    expect(await page.getByTestId('current-project').textContent()).toBe('Three globins')
    expect((await e2e.service.appInfo({})).currentProjectId).toBe('three-globins')
    await e2e.screenshot(page, 'project-created')
    await page.getByTestId('nav-models').click()
    await page
      .locator('[data-testid="job"][data-job-state="done"]', { hasText: 'Index "Three globins"' })
      .waitFor({ timeout: 10_000 })
    expect(await row.getByTestId('project-status').textContent()).toBe('indexed')
    // Opening the demo project makes it the current one again (remembered by the server).
    await page
      .locator('[data-testid="project-row"]', { hasText: 'Demo: 100 Swiss-Prot proteins' })
      .getByTestId('project-open')
      .click()
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid="current-project"]')?.textContent ===
        'Demo: 100 Swiss-Prot proteins (demo)',
      undefined,
      { timeout: 10_000 }
    )
    expect(page.url()).toContain('#/features')
    expect((await e2e.service.appInfo({})).currentProjectId).toBe('demo')
  }, 120_000)

  it('a bad record with "stop at the first": the job fails and lists it with file, line and id', async () => {
    await page.getByTestId('nav-models').click()
    await page.getByText('New project…').click()
    await page.getByPlaceholder('my proteins').fill('One bad record')
    const fasta = [
      '>sp|P62988|UBIQ_HUMAN Ubiquitin',
      'MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG',
      '>broken_1 digits in the sequence',
      'MQIF12VKTLTG',
      ''
    ].join('\n')
    await page
      .getByTestId('new-project-file')
      .setInputFiles({ name: 'with-bad.fasta', mimeType: 'text/plain', buffer: Buffer.from(fasta) })
    await page.getByTestId('new-project-bad-records').selectOption('stop')
    await page.getByRole('button', { name: 'Create and index' }).click()
    const job = page.locator('[data-testid="job"][data-job-state="failed"]', { hasText: 'Index "One bad record"' })
    await job.waitFor({ timeout: 60_000 })
    expect(await job.locator('.error-text').textContent()).toMatch(/^with-bad\.fasta:3: bad record "broken_1"/)
    const bad = job.getByTestId('bad-record')
    expect(await bad.count()).toBe(1)
    expect(await bad.locator('td').allTextContents()).toEqual([
      'with-bad.fasta',
      '3',
      'broken_1',
      expect.stringMatching(/\S/)
    ])
    await e2e.screenshot(page, 'job-bad-record')
  }, 120_000)

  it('logged no page errors', () => {
    expect(e2e.pageErrors).toEqual([])
  })
})
