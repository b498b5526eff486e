/**
 * End to end, the views (browser mode, Debian's Chromium, the indexed demo project): the feature browser
 * (sort, search, keyboard, overview brush, CSV export), a feature's detail (histogram, tracks, label saved to
 * the store), a protein (features over a brushed residue range, heat map) with its structure coloured by a
 * feature in Mol* (checked through the colour theme's record and the canvas pixels), hover from the 3D view to
 * the sequence track, and the exports. Screenshots of each view go to test-results/screenshots/.
 */
import { readFileSync } from 'node:fs'
import type { Download, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ProteinFeatureHit } from '../../src/shared/store-types'
import { activationScale } from '../../src/renderer/src/lib/colour-scale'
import { startE2e, type E2e } from './harness'

let e2e: E2e
let page: Page
let projectId: string

beforeAll(async () => {
  e2e = await startE2e({ indexed: true })
  await e2e.waitForIndexed()
  const projects = await e2e.service.listProjects({})
  projectId = projects[0].id
  page = await e2e.newPage()
  // Mol* renders with SwiftShader (software WebGL) here, on 2 shared cores: give the page time.
  page.setDefaultTimeout(90_000)
  page.setDefaultNavigationTimeout(90_000)
}, 300_000)

afterAll(async () => {
  await e2e?.close()
})

async function downloadOf(action: () => Promise<unknown>): Promise<{ name: string; bytes: Buffer }> {
  const [download] = (await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), action()])) as [
    Download,
    unknown
  ]
  const path = await download.path()
  return { name: download.suggestedFilename(), bytes: readFileSync(path) }
}

/** Texts of the feature-id cells of the rendered rows, top to bottom. */
async function visibleFeatureIds(): Promise<number[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('[data-testid="feature-table"] .vt-row')]
      .map(r => ({
        top: parseFloat((r as HTMLElement).style.top),
        id: Number(r.querySelector('[role="cell"]')?.textContent?.replace('#', ''))
      }))
      .sort((a, b) => a.top - b.top)
      .map(r => r.id)
  )
}

describe('feature browser', () => {
  it('lists every feature in a windowed table, sorts, searches and exports CSV', async () => {
    await page.goto(`${e2e.baseUrl}#/features`)
    const table = page.getByTestId('feature-table')
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="feature-table"]')?.getAttribute('data-rows')) > 0,
      undefined,
      { timeout: 30_000 }
    )
    const all = await e2e.service.listFeatures({ projectId, limit: 1 })
    expect(all.total).toBe(2048)
    expect(await table.getAttribute('data-rows')).toBe('2048')
    // Windowing: only the rows in view are in the DOM.
    const domRows = await page.locator('[data-testid="feature-table"] .vt-row').count()
    expect(domRows).toBeGreaterThan(5)
    expect(domRows).toBeLessThan(80)
    expect(await page.getByTestId('feature-count').textContent()).toBe('2,048 features')
    // The overview plot has one point per feature that fires (dead ones are counted, not plotted).
    const dead = (await e2e.service.listFeatures({ projectId, status: 'dead', limit: 1 })).total
    expect(await page.getByTestId('overview-canvas').getAttribute('data-points')).toBe(String(2048 - dead))

    // Sort by max activation (descending on first click): the same order as the store's.
    await page.getByTestId('feature-table-sort-max').click()
    const byMax = await e2e.service.listFeatures({ projectId, sort: { key: 'max', dir: 'desc' }, limit: 5 })
    await page.waitForFunction(
      first =>
        document.querySelector('[data-testid="feature-table"] .vt-row[data-row-index="0"] [role="cell"]')
          ?.textContent === `#${first}`,
      byMax.items[0].id,
      { timeout: 30_000 }
    )
    expect((await visibleFeatureIds()).slice(0, 5)).toEqual(byMax.items.map(f => f.id))
    await e2e.screenshot(page, 'features-sorted-by-max')

    // Search: the count and the rows are the store's answer to the same text query.
    await page.getByTestId('feature-search').fill('metal')
    const metal = await e2e.service.listFeatures({
      projectId,
      text: 'metal',
      sort: { key: 'max', dir: 'desc' },
      limit: 20_000
    })
    expect(metal.total).toBeGreaterThan(0)
    expect(metal.total).toBeLessThan(2048)
    await page.waitForFunction(
      n => document.querySelector('[data-testid="feature-table"]')?.getAttribute('data-rows') === String(n),
      metal.total,
      { timeout: 30_000 }
    )
    expect(await page.getByTestId('feature-count').textContent()).toBe(
      `${metal.total.toLocaleString('en-US')} matching`
    )
    expect((await visibleFeatureIds())[0]).toBe(metal.items[0].id)

    // CSV export of the filtered table: a header and one line per matching feature.
    const csv = await downloadOf(() => page.getByTestId('features-export-csv').click())
    expect(csv.name).toMatch(/\.csv$/)
    const lines = csv.bytes.toString('utf8').trim().split('\n')
    expect(lines.length).toBe(metal.total + 1)
    await e2e.screenshot(page, 'features-search')
    await page.getByTestId('feature-search').fill('')
    await page.waitForFunction(
      () => document.querySelector('[data-testid="feature-table"]')?.getAttribute('data-rows') === '2048',
      undefined,
      { timeout: 30_000 }
    )
  })

  it('selects features by brushing the overview plot', async () => {
    const brush = page.getByTestId('overview-brush')
    const box = (await brush.boundingBox())!
    await page.mouse.move(box.x + box.width * 0.55, box.y + 2)
    await page.mouse.down()
    await page.mouse.move(box.x + box.width - 2, box.y + box.height - 2, { steps: 8 })
    await page.mouse.up()
    await page.getByTestId('brush-chip').waitFor()
    const chip = await page.getByTestId('brush-chip').textContent()
    const n = Number(/([\d,]+) selected/.exec(chip ?? '')?.[1].replace(/,/g, ''))
    expect(n).toBeGreaterThan(0)
    expect(n).toBeLessThan(2048)
    await page.waitForFunction(
      k => document.querySelector('[data-testid="feature-table"]')?.getAttribute('data-rows') === String(k),
      n,
      { timeout: 30_000 }
    )
    await e2e.screenshot(page, 'features-brushed')
    await page.getByTestId('brush-chip').getByRole('button').click()
    await page.waitForFunction(
      () => document.querySelector('[data-testid="feature-table"]')?.getAttribute('data-rows') === '2048',
      undefined,
      { timeout: 30_000 }
    )
  })

  it('moves with the keyboard and opens a feature with Enter', async () => {
    await page.getByTestId('feature-table-sort-id').click()
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid="feature-table"] .vt-row[data-row-index="0"] [role="cell"]')
          ?.textContent === '#0',
      undefined,
      { timeout: 30_000 }
    )
    await page.getByTestId('feature-table-body').focus()
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('ArrowUp')
    expect(await page.locator('[data-testid="feature-table"] .vt-row.active').getAttribute('data-row-index')).toBe('2')
    await page.keyboard.press('End')
    expect(await page.locator('[data-testid="feature-table"] .vt-row.active').getAttribute('data-row-index')).toBe(
      '2047'
    )
    await page.keyboard.press('Home')
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('Enter')
    await page.waitForURL(/#\/feature-detail\?feature=2$/)
    await page.getByTestId('feature-detail').waitFor()
  })
})

describe('feature detail', () => {
  it('shows the histogram, the top proteins with tracks over their annotations, and saves a label', async () => {
    // A feature that fires on several proteins.
    const list = await e2e.service.listFeatures({ projectId, sort: { key: 'freqProtein', dir: 'desc' }, limit: 1 })
    const feature = list.items[0].id
    await page.goto(`${e2e.baseUrl}#/feature-detail?feature=${feature}`)
    await page
      .locator('[data-testid="top-proteins"] [data-testid="protein-track"]')
      .first()
      .waitFor({ timeout: 30_000 })
    const detail = await e2e.service.featureDetail({ projectId, feature })
    expect(await page.locator('[data-testid="top-proteins"] [data-testid="protein-track"]').count()).toBe(
      detail.topProteins.length
    )
    // The first track is the top protein, with as many firing residues as the store says.
    const first = page.locator('[data-testid="top-proteins"] [data-testid="protein-track"]').first()
    expect(await first.getAttribute('data-accession')).toBe(detail.topProteins[0].protein.accession)
    const track = first.getByTestId('activation-track')
    expect(Number(await track.getAttribute('data-firing'))).toBe(
      detail.topProteins[0].activations.filter(v => v > 0).length
    )
    expect(Number(await track.getAttribute('data-residues'))).toBe(detail.topProteins[0].sequence.length)
    // Bars are coloured by the activation scale: the highest bar of the top protein has its colour.
    const top = detail.topProteins[0]
    const expected = activationScale(detail.stats.max).hex(top.max)
    const fills = await track.locator('svg rect').evaluateAll(rects => rects.map(r => r.getAttribute('fill')))
    expect(fills).toContain(expected)
    // Annotation tracks are drawn under it (the demo proteins are annotated Swiss-Prot entries).
    if (top.annotations.some(a => a.type === 'helix' || a.type === 'strand'))
      expect(await track.textContent()).toContain('Secondary str.')
    // Histogram bars.
    expect(await page.locator('[data-testid="activation-histogram"] svg rect').count()).toBeGreaterThan(0)
    await e2e.screenshot(page, 'feature-detail')

    // Label and notes, saved through the API into the store.
    await page.getByTestId('feature-label-input').fill('e2e: test label')
    await page.getByTestId('feature-notes-input').fill('written by the views e2e test')
    await page.getByTestId('feature-label-save').click()
    await page.waitForFunction(
      () => document.querySelector('[data-testid="feature-label-status"]')?.textContent === 'Saved',
      undefined,
      { timeout: 30_000 }
    )
    const saved = await e2e.service.featureDetail({ projectId, feature })
    expect(saved.label).toBe('e2e: test label')
    expect(saved.notes).toBe('written by the views e2e test')

    // Exporting a track as SVG gives a standalone SVG with the bars.
    const svg = await downloadOf(() => first.getByRole('button', { name: 'SVG' }).click())
    const text = svg.bytes.toString('utf8')
    expect(text).toMatch(/^<\?xml[^>]*>\s*<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/)
    expect(text).toContain(expected)
  })
})

/** Pixels of a PNG screenshot that are clearly red (r well above g and b): activation colours in the view. */
async function redPixels(png: Buffer): Promise<number> {
  return page.evaluate(async b64 => {
    const img = new Image()
    img.src = `data:image/png;base64,${b64}`
    await img.decode()
    const c = document.createElement('canvas')
    c.width = img.width
    c.height = img.height
    const ctx = c.getContext('2d')!
    ctx.drawImage(img, 0, 0)
    const d = ctx.getImageData(0, 0, c.width, c.height).data
    let n = 0
    // Greys have r ≈ g ≈ b, the ligands' slate has b > r: only the activation reds pass.
    for (let i = 0; i < d.length; i += 4) if (d[i] - Math.max(d[i + 1], d[i + 2]) > 25) n++
    return n
  }, png.toString('base64'))
}

/** Points (fractions of the canvas) where a PNG of the 3D view shows the structure (grey or red, not white). */
async function structurePoints(png: Buffer): Promise<[number, number][]> {
  return page.evaluate(async b64 => {
    const img = new Image()
    img.src = `data:image/png;base64,${b64}`
    await img.decode()
    const c = document.createElement('canvas')
    c.width = img.width
    c.height = img.height
    const ctx = c.getContext('2d')!
    ctx.drawImage(img, 0, 0)
    const d = ctx.getImageData(0, 0, c.width, c.height).data
    const out: [number, number][] = []
    for (let y = 8; y < c.height - 8; y += 17)
      for (let x = 8; x < c.width - 8; x += 17) {
        const i = (y * c.width + x) * 4
        if (d[i] < 235 && d[i] >= d[i + 2] - 8) out.push([x / c.width, y / c.height])
      }
    // From the centre outwards: the focused chain is in the middle.
    return out.sort((a, b) => Math.hypot(a[0] - 0.5, a[1] - 0.5) - Math.hypot(b[0] - 0.5, b[1] - 0.5))
  }, png.toString('base64'))
}

describe('protein view and structure', () => {
  const accession = 'P69905' // HBA_HUMAN; the demo's 2HHB has it as chains A and C (PDB numbering = UniProt − 1)
  let hit: ProteinFeatureHit

  it('colours the structure by the selected feature (theme record and pixels) and links hover', async () => {
    const r = await e2e.service.proteinFeatures({ projectId, protein: accession, limit: 200, withTracks: 200 })
    // The feature that fires on the most residues (the clearest colouring).
    hit = [...r.items].sort((a, b) => b.firingResidues - a.firingResidues || b.max - a.max)[0]
    expect(hit.firingResidues).toBeGreaterThan(0)
    await page.goto(`${e2e.baseUrl}#/protein?protein=${accession}&feature=${hit.feature}`)
    const viewer = page.getByTestId('structure-viewer')
    await page.locator('[data-testid="structure-viewer"][data-theme="plm-activation"]').waitFor({ timeout: 180_000 })
    // The alignment: chain A of 2HHB, identical to the mature protein (the initiator Met is missing).
    const alignment = page.getByTestId('structure-alignment')
    expect(await alignment.getAttribute('data-chain')).toBe('A')
    expect(await alignment.getAttribute('data-identity')).toBe('1.0000')
    expect(await alignment.getAttribute('data-aligned')).toBe('141')
    // Residues the feature fires on, counted independently from the store's track through PDB numbering n = UniProt n + 1.
    const firingOnChain = hit.activations!.slice(1).filter(v => v > 0).length
    expect(Number(await alignment.getAttribute('data-firing-residues'))).toBe(firingOnChain)
    // Mol* asked the theme for every residue of chain A and got the activation colours for the firing ones.
    expect(await viewer.getAttribute('data-theme-coloured-residues')).toBe('141')
    expect(Number(await viewer.getAttribute('data-theme-firing-residues'))).toBe(firingOnChain)
    // And the canvas shows red.
    await page.waitForTimeout(1500)
    const withFeature = await redPixels(
      await page.locator('[data-testid="structure-viewer"] canvas').first().screenshot()
    )
    expect(withFeature).toBeGreaterThan(20)
    await e2e.screenshot(page, 'protein')

    // Hover in the 3D view: a residue of chain A lights up in the sequence track. Candidate points are where the
    // canvas shows the cartoon (grey or red, not the white background).
    const canvas = page.locator('[data-testid="structure-viewer"] canvas').first()
    const box = (await canvas.boundingBox())!
    const points = await structurePoints(await canvas.screenshot())
    expect(points.length).toBeGreaterThan(10)
    let hovered = ''
    for (const [gx, gy] of points.slice(0, 40)) {
      await page.mouse.move(box.x + box.width * gx, box.y + box.height * gy)
      await page.waitForTimeout(300)
      hovered = (await page.getByTestId('sequence-track').getAttribute('data-hovered')) ?? ''
      if (hovered) break
    }
    expect(Number(hovered)).toBeGreaterThanOrEqual(2)
    expect(await page.getByTestId('sequence-track-hover-label').textContent()).toMatch(
      new RegExp(`^[A-Z]${hovered} · activation`)
    )
    // And back: hovering the sequence track highlights the residue (the track reports it; Mol* gets the loci).
    const track = page.getByTestId('sequence-track').locator('svg').first()
    const tbox = (await track.boundingBox())!
    await page.mouse.move(tbox.x + 92 + (tbox.width - 102) * (40.5 / 142), tbox.y + 10)
    await page.waitForFunction(
      () => document.querySelector('[data-testid="sequence-track"]')?.getAttribute('data-hovered') === '41',
      undefined,
      { timeout: 30_000 }
    )
    await page.mouse.move(5, 5)
  }, 300_000)

  it('selects a residue range by brushing the sequence and re-ranks the features over it', async () => {
    const brush = page.getByTestId('sequence-track-brush')
    const box = (await brush.boundingBox())!
    await page.mouse.move(box.x + box.width * 0.25, box.y + 10)
    await page.mouse.down()
    await page.mouse.move(box.x + box.width * 0.6, box.y + 10, { steps: 6 })
    await page.mouse.up()
    await page.waitForFunction(
      () =>
        /^\d+-\d+$/.test(document.querySelector('[data-testid="sequence-track"]')?.getAttribute('data-range') ?? ''),
      undefined,
      { timeout: 30_000 }
    )
    const [start, end] = ((await page.getByTestId('sequence-track').getAttribute('data-range')) ?? '')
      .split('-')
      .map(Number)
    expect(start).toBeGreaterThan(20)
    expect(end).toBeLessThan(100)
    const expected = await e2e.service.proteinFeatures({
      projectId,
      protein: accession,
      range: { start, end },
      sortBy: 'max',
      limit: 3
    })
    await page.waitForFunction(
      t =>
        document
          .querySelector('[data-testid="protein-feature-count"]')
          ?.textContent?.startsWith(`${t.toLocaleString('en-US')} features`) ?? false,
      expected.total,
      { timeout: 60_000 }
    )
    await page.waitForFunction(
      f =>
        document.querySelector('[data-testid="protein-feature-table"]')?.getAttribute('data-first-key') === String(f),
      expected.items[0].feature,
      { timeout: 60_000 }
    )
    // Sorting by mean over the range.
    await page.getByTestId('protein-sort').selectOption('mean')
    const byMean = await e2e.service.proteinFeatures({
      projectId,
      protein: accession,
      range: { start, end },
      sortBy: 'mean',
      limit: 1
    })
    await page.waitForFunction(
      f =>
        document.querySelector('[data-testid="protein-feature-table"]')?.getAttribute('data-first-key') === String(f),
      byMean.items[0].feature,
      { timeout: 60_000 }
    )
    expect(Number(await page.getByTestId('residue-heatmap').getAttribute('data-rows'))).toBeGreaterThan(0)
    await e2e.screenshot(page, 'protein-range')
  }, 200_000)

  it('exports the structure as PNG and the heat map as SVG', async () => {
    const png = await downloadOf(() =>
      page.getByTestId('structure-export').getByRole('button', { name: 'PNG' }).click()
    )
    expect(png.name).toMatch(/\.png$/)
    expect(png.bytes.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a')
    expect(png.bytes.length).toBeGreaterThan(5000)
    const heat = await downloadOf(() =>
      page.getByTestId('residue-heatmap').getByRole('button', { name: 'SVG' }).click()
    )
    expect(heat.bytes.toString('utf8')).toContain('<svg')
  }, 300_000)

  it('pastes a sequence and computes its features live', async () => {
    const detail = await e2e.service.proteinDetail({ projectId, protein: accession })
    await page.goto(`${e2e.baseUrl}#/protein`)
    await page
      .getByTestId('sequence-input')
      .fill(`>pasted_hba\n${detail.sequence.slice(0, 60)}\n${detail.sequence.slice(60)}\n`)
    await page.getByTestId('sequence-submit').click()
    await page.locator('[data-testid="protein-feature-table"]').waitFor({ timeout: 60_000 })
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="protein-feature-table"]')?.getAttribute('data-rows')) > 0,
      undefined,
      { timeout: 60_000 }
    )
    expect(await page.getByTestId('protein-view').getAttribute('data-protein')).toBe('pasted_hba')
    // No accession: the bundled structure whose chain aligns best (2HHB chain A, identical) is found and loaded.
    await page.locator('[data-testid="structure-viewer"][data-loaded="project:2hhb"]').waitFor({ timeout: 120_000 })
    await page.locator('[data-testid="structure-alignment"][data-chain="A"]').waitFor({ timeout: 60_000 })
    await e2e.screenshot(page, 'protein-pasted')
  }, 200_000)

  it('shows the structure page for a bundled structure', async () => {
    await page.goto(`${e2e.baseUrl}#/structure?structure=2hhb&protein=${accession}&feature=${hit.feature}`)
    await page.locator('[data-testid="structure-viewer"][data-theme="plm-activation"]').waitFor({ timeout: 180_000 })
    await page.waitForTimeout(1000)
    await e2e.screenshot(page, 'structure')
  }, 300_000)

  it('logged no page errors', () => {
    expect(e2e.pageErrors.filter(e => !/favicon/.test(e))).toEqual([])
  })
})
