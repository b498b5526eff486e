/**
 * End to end, what a scientist meets at first use (issue 14), in browser mode with Debian's Chromium on the
 * indexed demo project: the demo banner and the model · SAE · layer line, concept chips under the F1 floor,
 * the refusal to paint a protein onto an unrelated structure (with its numbers and an explicit override),
 * "no protein chosen", live activations above the project's range, and a multi-record paste.
 */
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { activationScale } from '../../src/renderer/src/lib/colour-scale'
import { DEFAULT_CONCEPT_F1_FLOOR } from '../../src/shared/concept-floor'
import type { ProjectInfo } from '../../src/shared/api'
import { startHttpServer } from '../../src/main/workbench/http-server'
import { buildRenderer, startE2e, type E2e } from './harness'

let e2e: E2e
let page: Page
let project: ProjectInfo

beforeAll(async () => {
  e2e = await startE2e({ indexed: true })
  await e2e.waitForIndexed()
  project = (await e2e.service.listProjects({}))[0]
  page = await e2e.newPage()
  page.setDefaultTimeout(90_000)
  page.setDefaultNavigationTimeout(90_000)
}, 300_000)

afterAll(async () => {
  await e2e?.close()
})

describe('honesty of what is shown', () => {
  it('says in every view that the numbers come from the random-weight demo models, and names model, SAE and layer', async () => {
    const models = await e2e.service.listModels({})
    const model = models.find(m => m.id === project.modelId)!
    const sae = models.find(m => m.id === project.saeId)!
    expect(model.demo && sae.demo).toBe(true)
    for (const hash of ['#/features', '#/feature-detail?feature=1', '#/protein', '#/structure', '#/steering']) {
      await page.goto(`${e2e.baseUrl}${hash}`)
      const banner = page.getByTestId('demo-banner')
      await banner.waitFor()
      await page.waitForFunction(
        m => document.querySelector('[data-testid="demo-banner"]')?.textContent?.includes(m) ?? false,
        model.name
      )
      expect(await banner.textContent()).toContain(model.name)
      expect(await banner.textContent()).toContain(sae.name)
      expect(await banner.textContent()).toMatch(/random weights/i)
    }
    await page.goto(`${e2e.baseUrl}#/features`)
    await page.waitForFunction(
      m => document.querySelector('[data-testid="project-models"]')?.textContent?.includes(m) ?? false,
      model.name
    )
    expect(await page.getByTestId('project-models').textContent()).toBe(
      `${model.name} · ${sae.name} · layer ${project.layer}`
    )
    await e2e.screenshot(page, 'first-use-demo-banner')
    // The Models & projects view has its own demo labels: no banner there.
    await page.goto(`${e2e.baseUrl}#/models`)
    await page.getByTestId('view-models').waitFor()
    expect(await page.getByTestId('demo-banner').count()).toBe(0)
  })

  it('mutes concept chips below the F1 floor (default 0.2, adjustable) and the concept filter follows it', async () => {
    await page.goto(`${e2e.baseUrl}#/features`)
    const floorInput = page.getByTestId('concept-floor')
    expect(Number(await floorInput.inputValue())).toBe(DEFAULT_CONCEPT_F1_FLOOR)
    // Sorted by F1, best first: the first row's chip is muted exactly when its F1 is below the floor.
    await page.getByTestId('feature-table-sort-f1').click()
    const best = (
      await e2e.service.listFeatures({ projectId: project.id, sort: { key: 'bestF1', dir: 'desc' }, limit: 1 })
    ).items[0]
    expect(best.bestConcept).not.toBeNull()
    const f1 = best.bestConcept!.f1
    const firstChip = page.locator(
      '[data-testid="feature-table"] .vt-row[data-row-index="0"] [data-testid="concept-chip"]'
    )
    await page.waitForFunction(
      id =>
        document.querySelector('[data-testid="feature-table"] .vt-row[data-row-index="0"] [role="cell"]')
          ?.textContent === `#${id}`,
      best.id
    )
    expect(await firstChip.getAttribute('data-below-floor')).toBe(f1 < DEFAULT_CONCEPT_F1_FLOOR ? 'true' : 'false')
    const above = Math.min(1, Math.ceil((f1 + 0.01) * 100) / 100)
    await floorInput.fill(String(above))
    await page.waitForFunction(
      () =>
        document
          .querySelector('[data-testid="feature-table"] .vt-row[data-row-index="0"] [data-testid="concept-chip"]')
          ?.getAttribute('data-below-floor') === 'true'
    )
    const below = Math.max(0, Math.floor((f1 - 0.01) * 100) / 100)
    await floorInput.fill(String(below))
    await page.waitForFunction(
      () =>
        document
          .querySelector('[data-testid="feature-table"] .vt-row[data-row-index="0"] [data-testid="concept-chip"]')
          ?.getAttribute('data-below-floor') === 'false'
    )
    // "has a concept" counts only concepts at or above the floor: the store's answer with minF1 = floor.
    await page.getByTestId('feature-concept').selectOption('any')
    const withConcept = await e2e.service.listFeatures({
      projectId: project.id,
      conceptType: 'any',
      minF1: below,
      limit: 1
    })
    await page.waitForFunction(
      n => document.querySelector('[data-testid="feature-table"]')?.getAttribute('data-rows') === String(n),
      withConcept.total
    )
    await floorInput.fill(String(above))
    const fewer = await e2e.service.listFeatures({ projectId: project.id, conceptType: 'any', minF1: above, limit: 1 })
    expect(fewer.total).toBeLessThan(withConcept.total)
    await page.waitForFunction(
      n => document.querySelector('[data-testid="feature-table"]')?.getAttribute('data-rows') === String(n),
      fewer.total
    )
    // The floor is kept (this browser's storage) and used by the other views' chips.
    await page.reload()
    expect(Number(await page.getByTestId('concept-floor').inputValue())).toBe(above)
    await page.getByTestId('concept-floor').fill(String(DEFAULT_CONCEPT_F1_FLOOR))
    await page.getByTestId('feature-concept').selectOption('')
  })

  it('refuses to paint a protein onto an unrelated structure, with the numbers, and paints on explicit request', async () => {
    const hbb = 'P68871' // haemoglobin β; 1UBQ is ubiquitin
    const r = await e2e.service.proteinFeatures({ projectId: project.id, protein: hbb, limit: 1, withTracks: 1 })
    const feature = r.items[0].feature
    await page.goto(`${e2e.baseUrl}#/structure?structure=1ubq&protein=${hbb}&feature=${feature}`)
    const refusal = page.getByTestId('structure-paint-refused')
    await refusal.waitFor({ timeout: 120_000 })
    expect(await refusal.getAttribute('data-refused')).toBe('true')
    const text = (await refusal.textContent()) ?? ''
    expect(text).toMatch(/identity \d+% is below 30%/)
    expect(text).toMatch(/\d+ aligned residues cover \d+% of the shorter sequence/)
    // Not coloured: the legend says so, the alignment line reports no residue painted.
    expect(await page.getByTestId('structure-legend').textContent()).toContain('Not coloured')
    await e2e.screenshot(page, 'first-use-paint-refused')
    await page.getByTestId('structure-paint-anyway').click()
    await page.waitForFunction(
      () => document.querySelector('[data-testid="structure-paint-refused"]')?.getAttribute('data-refused') === 'false'
    )
    expect(await page.getByTestId('structure-legend').textContent()).not.toContain('Not coloured')
    // The matching structure (2HHB has haemoglobin β as chains B and D) is painted without a word.
    await page.goto(`${e2e.baseUrl}#/structure?structure=2hhb&protein=${hbb}&feature=${feature}`)
    await page.locator('[data-testid="structure-alignment"][data-chain="B"]').waitFor({ timeout: 120_000 })
    expect(await page.getByTestId('structure-paint-refused').count()).toBe(0)
  }, 300_000)

  it('says "no protein chosen" for a structure shown without a protein', async () => {
    await page.goto(`${e2e.baseUrl}#/structure?structure=1ubq`)
    await page.getByTestId('structure-no-protein').waitFor({ timeout: 120_000 })
    expect(await page.getByTestId('structure-no-protein').textContent()).toMatch(/^No protein chosen/)
    expect(await page.getByText(/aligns to this protein/).count()).toBe(0)
  }, 200_000)

  it('flags live activations above the project maximum', async () => {
    // Sequences unlike the project's proteins: the first whose live features exceed a project maximum.
    const candidates = [
      'W'.repeat(60),
      'C'.repeat(60),
      'P'.repeat(60),
      'HHHHHHHHHH'.repeat(6),
      'KRKRKRKRKR'.repeat(6),
      'GGGGSGGGGS'.repeat(6),
      'DEDEDEDEDE'.repeat(6),
      'MWCWMWCWYF'.repeat(6)
    ]
    let chosen: { sequence: string; feature: number } | undefined
    for (const sequence of candidates) {
      const live = await e2e.service.liveFeatures({ projectId: project.id, sequence, sortBy: 'max', limit: 200 })
      const over = live.items.filter(h => h.max > h.globalMax)
      if (over.length > 0) {
        chosen = { sequence, feature: over[0].feature }
        break
      }
    }
    expect(chosen, 'one of the candidate sequences exceeds a feature maximum of the demo project').toBeDefined()
    const live = await e2e.service.liveFeatures({
      projectId: project.id,
      sequence: chosen!.sequence,
      sortBy: 'max',
      limit: 200
    })
    const overCount = live.items.filter(h => h.max > h.globalMax).length
    await page.goto(`${e2e.baseUrl}#/protein`)
    await page.getByTestId('sequence-input').fill(`>odd\n${chosen!.sequence}\n`)
    await page.getByTestId('sequence-submit').click()
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="protein-feature-table"]')?.getAttribute('data-rows')) > 0,
      undefined,
      { timeout: 60_000 }
    )
    // Every over-range feature in the first rows of the table is marked (the table is windowed: count those rendered).
    const rendered = await page.evaluate(() =>
      [...document.querySelectorAll('[data-testid="protein-feature-table"] .vt-row')].map(r => ({
        id: Number(r.querySelector('[role="cell"]')?.textContent?.replace('#', '')),
        flagged: r.querySelector('[data-testid="above-range-cell"]') !== null
      }))
    )
    const overIds = new Set(live.items.filter(h => h.max > h.globalMax).map(h => h.feature))
    expect(overCount).toBeGreaterThan(0)
    for (const row of rendered) expect(row.flagged, `feature ${row.id}`).toBe(overIds.has(row.id))
    // The selected feature (the first row) explains the clipping when it is over the range.
    const firstId = live.items[0].feature
    if (live.items[0].max > live.items[0].globalMax) {
      await page.getByTestId('above-range').waitFor()
      expect(await page.getByTestId('above-range').textContent()).toContain(`#${firstId} reaches`)
    } else {
      expect(await page.getByTestId('above-range').count()).toBe(0)
    }
    await e2e.screenshot(page, 'first-use-above-range')
  }, 200_000)

  it('offers the records of a multi-record paste instead of silently taking the first', async () => {
    await page.goto(`${e2e.baseUrl}#/protein`)
    await page
      .getByTestId('sequence-input')
      .fill('\uFEFF>first_one\nMKVLAAGIVGLLLAQ\n>second_one\nMQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEG\n')
    await page.getByTestId('sequence-submit').click()
    await page.getByTestId('pasted-records').waitFor()
    expect(await page.getByTestId('pasted-records').textContent()).toContain('2 FASTA records')
    // The first record is shown at once, and the view says so; the others are offered in a select.
    expect(await page.getByTestId('pasted-records').textContent()).toContain(
      '2 FASTA records pasted; showing the first, first_one'
    )
    await page.waitForFunction(
      () => document.querySelector('[data-testid="protein-view"]')?.getAttribute('data-protein') === 'first_one'
    )
    expect(await page.getByTestId('pasted-record').allTextContents()).toEqual(['first_one', 'second_one'])
    await page.getByTestId('pasted-record-select').selectOption({ index: 1 })
    await page.waitForFunction(
      () => document.querySelector('[data-testid="protein-view"]')?.getAttribute('data-protein') === 'second_one'
    )
    expect(await page.getByTestId('pasted-records').textContent()).toContain('showing record 2, second_one')
    // The pasted sequence is in the URL: a reload (or a link) shows the same protein.
    expect(page.url()).toContain('sequence=MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEG')
    await page.reload()
    await page.waitForFunction(
      () => document.querySelector('[data-testid="protein-view"]')?.getAttribute('data-protein') === 'second_one'
    )
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="protein-feature-table"]')?.getAttribute('data-rows')) > 0,
      undefined,
      { timeout: 60_000 }
    )
  }, 120_000)

  it('answers a feature id out of range with 404 and a bad motif or clamp with 400, with the message', async () => {
    const post = async (method: string, body: unknown) => {
      // the server asks for its access token (plm-sae serve's default); the harness's URL carries it
      const token = new URL(e2e.baseUrl).searchParams.get('token')
      const headers = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }
      const r = await fetch(new URL(`/api/${method}`, e2e.baseUrl), {
        method: 'POST',
        headers,
        body: JSON.stringify(body)
      })
      return { status: r.status, body: (await r.json()) as { error?: { kind: string; message: string } } }
    }
    const features = project.featureCount!
    const missing = await post('featureDetail', { projectId: project.id, feature: features + 5 })
    expect(missing.status).toBe(404)
    expect(missing.body.error).toEqual({
      kind: 'not-found',
      message: expect.stringContaining(`feature ${features + 5} is not in run`)
    })
    const label = await post('updateFeatureLabel', { projectId: project.id, feature: features, label: 'x', notes: '' })
    expect(label.status).toBe(400)
    expect(label.body.error?.message).toContain(`feature ${features} is not in 0..${features - 1}`)
    const settings = { mode: 'edit', n: 1, seed: 1, temperature: 0, rounds: 1, maskFraction: 0.15 }
    const motif = await post('startSteering', {
      projectId: project.id,
      start: { id: 'x', sequence: 'MKVLAAGIVG' },
      clamps: [],
      settings,
      motif: 'C-x(2',
      pll: false
    })
    expect(motif.status).toBe(400)
    expect(motif.body.error?.kind).toBe('invalid-request')
    expect(motif.body.error?.message).toMatch(/C-x\(2/)
    const range = await post('startSteering', {
      projectId: project.id,
      start: { id: 'x', sequence: 'MKVLAAGIVG' },
      clamps: [{ feature: 1, mode: 'absolute', value: 1, range: { start: 5, end: 50 } }],
      settings,
      pll: false
    })
    expect(range.status).toBe(400)
    expect(range.body.error?.message).toMatch(/50/)
  })
})

describe('reading a feature', () => {
  it('plots only features that fire, with a hover tooltip, and opens a feature with a single click', async () => {
    await page.goto(`${e2e.baseUrl}#/features`)
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="feature-table"]')?.getAttribute('data-rows')) > 0
    )
    const dead = (await e2e.service.listFeatures({ projectId: project.id, status: 'dead', limit: 1 })).total
    const canvas = page.getByTestId('overview-canvas')
    expect(Number(await canvas.getAttribute('data-points'))).toBe(project.featureCount! - dead)
    expect(Number(await canvas.getAttribute('data-dead'))).toBe(dead)
    // Hover the dot of the feature with the highest max activation (top of the plot): its tooltip names it.
    const top = (await e2e.service.listFeatures({ projectId: project.id, sort: { key: 'max', dir: 'desc' }, limit: 1 }))
      .items[0]
    const overview = await e2e.service.featureOverview({ projectId: project.id })
    expect(overview.ids).toContain(top.id)
    const brush = (await page.getByTestId('overview-brush').boundingBox())!
    // Sweep the top band of the plot until the tooltip shows the top feature.
    let shown = ''
    const tooltipFeature = () =>
      page.evaluate(
        () => document.querySelector('[data-testid="overview-tooltip"]')?.getAttribute('data-feature') ?? ''
      )
    for (let dy = 2; dy < 70 && shown !== String(top.id); dy += 8) {
      for (let fx = 0.01; fx <= 0.99 && shown !== String(top.id); fx += 0.012) {
        await page.mouse.move(brush.x + brush.width * fx, brush.y + dy)
        shown = await tooltipFeature()
      }
    }
    expect(shown).toBe(String(top.id))
    const tip = (await page.getByTestId('overview-tooltip').textContent()) ?? ''
    expect(tip.startsWith(`#${top.id}`)).toBe(true)
    expect(tip).toContain(top.bestConcept ? `F1 ${top.bestConcept.f1.toFixed(2)}` : 'no concept')
    await page.mouse.move(5, 5)
    // One click on a row opens that feature.
    await page.goto(`${e2e.baseUrl}#/models`)
    await page.goto(`${e2e.baseUrl}#/features`) // a fresh feature browser: sorted by id
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid="feature-table"] .vt-row[data-row-index="3"] [role="cell"]')
          ?.textContent === '#3'
    )
    await page.locator('[data-testid="feature-table"] .vt-row[data-row-index="3"] [role="cell"]').first().click()
    await page.waitForFunction(() => window.location.hash === '#/feature-detail?feature=3', undefined, {
      timeout: 30_000
    })
    await page.getByTestId('feature-detail').waitFor()
  })

  it('shows the top examples as sequences with letters coloured by activation around the peak', async () => {
    const top = (
      await e2e.service.listFeatures({
        projectId: project.id,
        status: 'alive',
        sort: { key: 'freqProtein', dir: 'desc' },
        limit: 1
      })
    ).items[0]
    const detail = await e2e.service.featureDetail({ projectId: project.id, feature: top.id })
    await page.goto(`${e2e.baseUrl}#/feature-detail?feature=${top.id}`)
    const rows = page.locator('[data-testid="top-sequences"] [data-testid="highlighted-sequence"]')
    await rows.first().waitFor()
    expect(await rows.count()).toBe(detail.topProteins.length)
    const scale = activationScale(detail.stats.max)
    const p = detail.topProteins[0]
    const letters = await rows
      .first()
      .locator('span[data-residue]')
      .evaluateAll(els =>
        els.map(e => ({
          residue: Number(e.getAttribute('data-residue')),
          letter: e.textContent,
          background: (e as HTMLElement).style.backgroundColor
        }))
      )
    // The window: 40 residues each side of the peak, the peak included.
    expect(letters[0].residue).toBe(Math.max(1, p.argmax - 40))
    expect(letters.at(-1)!.residue).toBe(Math.min(p.sequence.length, p.argmax + 40))
    const rgb = (hex: string) =>
      `rgb(${parseInt(hex.slice(1, 3), 16)}, ${parseInt(hex.slice(3, 5), 16)}, ${parseInt(hex.slice(5, 7), 16)})`
    for (const l of letters) {
      expect(l.letter).toBe(p.sequence[l.residue - 1])
      const v = p.activations[l.residue - 1]
      expect(l.background, `residue ${l.residue}`).toBe(v > 0 ? rgb(scale.hex(v)) : '')
    }
    expect(letters.some(l => l.background !== '')).toBe(true)
  })

  it('writes the residue letters on a track whenever they fit, each within its residue', async () => {
    await page.goto(`${e2e.baseUrl}#/protein?protein=P69905`)
    const track = page.getByTestId('sequence-track')
    await track.waitFor({ timeout: 60_000 })
    const sequence = (await e2e.service.proteinDetail({ projectId: project.id, protein: 'P69905' })).sequence
    const m = await track.evaluate(el => {
      const bars = el.querySelector('svg')!.getBoundingClientRect()
      const letters = [...el.querySelectorAll('[data-testid="sequence-track-letters"] text')].map(t => ({
        c: t.textContent,
        w: (t as SVGTextElement).getBBox().width
      }))
      return { svgWidth: bars.width, letters }
    })
    // The slot of one residue in this layout (track width less its axis margins, over the residues).
    const step = (m.svgWidth - 102) / sequence.length
    if (step / 0.62 >= 6) {
      expect(m.letters.map(l => l.c).join('')).toBe(sequence)
      for (const l of m.letters) expect(l.w).toBeLessThanOrEqual(step + 0.5)
    } else {
      expect(m.letters).toEqual([])
    }
  })

  it('"Steer this feature" opens Steering with a clamp on it', async () => {
    const alive = (
      await e2e.service.listFeatures({
        projectId: project.id,
        status: 'alive',
        sort: { key: 'max', dir: 'desc' },
        limit: 1
      })
    ).items[0]
    await page.goto(`${e2e.baseUrl}#/feature-detail?feature=${alive.id}`)
    await page.getByTestId('steer-this-feature').click()
    await page.waitForURL(new RegExp(`#/steering\\?feature=${alive.id}$`))
    await page.locator(`[data-testid="steer-clamp"][data-feature="${alive.id}"]`).waitFor()
  })
})

describe('3D view', () => {
  it('offers the AlphaFold DB model of a protein that has no structure in the project', async () => {
    const structures = await e2e.service.listStructures({ projectId: project.id })
    const withStructure = new Set(structures.flatMap(s => s.proteinIds.map(p => p.toUpperCase())))
    const proteins = await e2e.service.listProteins({ projectId: project.id, limit: 100 })
    const lone = proteins.items.find(p => !withStructure.has(p.accession.toUpperCase()))!
    await page.goto(`${e2e.baseUrl}#/protein?protein=${lone.accession}`)
    await page.getByTestId('structure-alphafold-offer').waitFor({ timeout: 60_000 })
    expect(await page.getByTestId('structure-alphafold-offer').textContent()).toContain(`AF-${lone.accession}-F1`)
    expect(await page.getByTestId('structure-remote-id').inputValue()).toBe(lone.accession)
    // A protein with a project structure gets no offer.
    await page.goto(`${e2e.baseUrl}#/protein?protein=P69905`)
    await page.locator('[data-testid="structure-alignment"][data-chain="A"]').waitFor({ timeout: 120_000 })
    expect(await page.getByTestId('structure-alphafold-offer').count()).toBe(0)
  }, 200_000)
})

describe('3D view: the chosen structure in the URL', () => {
  it('keeps a structure picked in the protein view through a reload', async () => {
    await page.goto(`${e2e.baseUrl}#/protein?protein=P69905`)
    await page.locator('[data-testid="structure-viewer"][data-loaded="project:2hhb"]').waitFor({ timeout: 120_000 })
    await page.getByTestId('structure-select').selectOption('1ubq')
    await page.waitForFunction(() => window.location.hash.includes('structure=1ubq'))
    expect(page.url()).toContain('protein=P69905')
    await page.reload()
    await page.locator('[data-testid="structure-viewer"][data-loaded="project:1ubq"]').waitFor({ timeout: 120_000 })
    expect(await page.getByTestId('structure-select').inputValue()).toBe('1ubq')
  }, 300_000)
})

describe('projects in browser mode', () => {
  it('switches projects from the header and resets the New-project form after creating one', async () => {
    await page.goto(`${e2e.baseUrl}#/models`)
    await page.getByText('New project…').click()
    await page.getByTestId('new-project-name').fill('Ubiquitin only')
    const fasta =
      '>sp|P62988|UBIQ_HUMAN Ubiquitin\nMQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG\n'
    await page
      .getByTestId('new-project-file')
      .setInputFiles({ name: 'two.fasta', mimeType: 'text/plain', buffer: Buffer.from(fasta) })
    await page.getByRole('button', { name: 'Create and index' }).click()
    await page.locator('[data-testid="project-row"]', { hasText: 'Ubiquitin only' }).waitFor({ timeout: 60_000 })
    // The form is empty again: no name, no file.
    await page.waitForFunction(
      () => (document.querySelector('[data-testid="new-project-name"]') as HTMLInputElement | null)?.value === ''
    )
    expect(await page.getByTestId('new-project-file').evaluate(el => (el as HTMLInputElement).files?.length ?? 0)).toBe(
      0
    )
    const created = (await e2e.service.listProjects({})).find(p => p.name === 'Ubiquitin only')!
    await e2e.service.jobs.waitFor(
      e2e.service.jobs.list().find(j => j.kind === 'index' && j.projectId === created.id)!.id
    )
    // The header's project name lists the projects; picking one opens it.
    await page.getByTestId('current-project').click()
    await page.getByTestId('project-menu').waitFor()
    const current = (await e2e.service.appInfo({})).currentProjectId
    const other = current === created.id ? project.id : created.id
    await page.locator(`[data-testid="project-switch"][data-project-id="${other}"]`).click()
    await page.waitForFunction(
      id => document.querySelector('[data-testid="project-menu"]') === null && id !== '',
      other
    )
    await expect.poll(async () => (await e2e.service.appInfo({})).currentProjectId).toBe(other)
    const expectedName = other === project.id ? `${project.name} (demo)` : 'Ubiquitin only'
    await page.waitForFunction(
      n => document.querySelector('[data-testid="current-project"]')?.textContent === n,
      expectedName
    )
    // And back to the demo project for whatever runs next.
    await e2e.service.openProject({ projectId: project.id })
  }, 200_000)

  it('says when the server is unreachable, retries, and comes back when it answers again', async () => {
    await page.goto(`${e2e.baseUrl}#/features`)
    await page.getByTestId('feature-browser').waitFor()
    const errorsBefore = e2e.pageErrors.length
    const port = Number(new URL(e2e.baseUrl).port)
    await e2e.server.close()
    // Any call now fails: the search asks the server.
    await page.getByTestId('feature-search').fill('helix')
    await page.getByTestId('server-unreachable').waitFor({ timeout: 30_000 })
    expect(await page.getByTestId('server-unreachable').textContent()).toMatch(/cannot be reached.*Retrying every 3 s/)
    // The server comes back on the same address: the page reloads and the banner is gone.
    e2e.server = await startHttpServer({ api: e2e.service, staticDir: buildRenderer(), port })
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid="server-unreachable"]') === null &&
        document.querySelector('[data-testid="feature-browser"]') !== null,
      undefined,
      { timeout: 60_000 }
    )
    // The failed requests of the outage were expected: keep them out of the page-error check.
    e2e.pageErrors.splice(errorsBefore)
  }, 120_000)

  it('logged no page errors', () => {
    expect(e2e.pageErrors.filter(e => !/favicon/.test(e))).toEqual([])
  })
})
