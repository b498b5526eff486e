/**
 * End to end at scale (issue 5: "the app stays responsive with 10,000+ features and 20,000 proteins"):
 * a project of 20,000 synthetic proteins and a run of 10,240 features with sparse synthetic latents is written
 * straight into a real store (no model runs; latents in big transactions, statistics by the store's own
 * `computeStatistics`), registered as a project in a fresh data folder, and served by the real workbench +
 * HTTP server to Debian's Chromium. The test checks the views stay windowed / paged (the DOM never holds the
 * 10,240 features or the 20,000 proteins) and that the UI shows the store's answers; it PRINTS how long the
 * build and each interaction took (never asserts a time).
 *
 * Knobs (environment): SCALE_PROTEINS (20000), SCALE_FEATURES (10240), SCALE_NNZ (latents per residue, 30).
 */
import { mkdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ResidueAnnotation } from '../../src/shared/store-types'
import type { SparseLatents } from '../../src/main/engine/sae/sparse-latents'
import { LatentStore, type NewProtein } from '../../src/main/engine/store/latent-store'
import { DEMO_SAE_LAYER } from '../../src/main/engine/library/demo-models'
import { startHttpServer, type RunningHttpServer } from '../../src/main/workbench/http-server'
import { DEMO_ESM2_ID, DEMO_SAE_ID } from '../../src/main/workbench/model-resolver'
import { ProjectRegistry } from '../../src/main/workbench/projects'
import { openWorkbench, type WorkbenchService } from '../../src/main/workbench/service'
import { CHROMIUM, CHROMIUM_ARGS, REPO, SCREENSHOTS, buildRenderer } from './harness'
import { mulberry32 } from '../../src/main/engine/random'

const PROTEINS = Number(process.env.SCALE_PROTEINS ?? 20_000)
const FEATURES = Number(process.env.SCALE_FEATURES ?? 10_240)
const NNZ = Number(process.env.SCALE_NNZ ?? 30)
/** Features at the top of the range never fire (dead features, as real SAEs have). */
const DEAD = 64
/** Feature 1 fires on helix residues (a concept the statistics find). */
const HELIX_FEATURE = 1
/** Features given a label "probe N" (for the text search). */
const PROBES = Array.from({ length: 40 }, (_, i) => 7 + i * 250)
const ORGANISMS = [
  'Homo sapiens',
  'Mus musculus',
  'Escherichia coli',
  'Saccharomyces cerevisiae',
  'Arabidopsis thaliana'
]

const accessionOf = (i: number): string => `S${String(i).padStart(5, '0')}`

/** 20,000 proteins of 50–150 residues; about half carry a helix (and some a strand) annotation. */
function syntheticProteins(n: number, rand: () => number): NewProtein[] {
  const out: NewProtein[] = []
  for (let i = 0; i < n; i++) {
    const len = 50 + Math.floor(rand() * 101)
    let sequence = ''
    for (let r = 0; r < len; r++) sequence += 'ACDEFGHIKLMNPQRSTVWY'[Math.floor(rand() * 20)]
    const annotations: ResidueAnnotation[] = []
    if (rand() < 0.5) {
      const start = 1 + Math.floor(rand() * (len - 20))
      annotations.push({ type: 'helix', start, end: start + 8 + Math.floor(rand() * 10), description: '' })
      if (rand() < 0.4) {
        const s2 = 1 + Math.floor(rand() * (len - 8))
        annotations.push({ type: 'strand', start: s2, end: Math.min(len, s2 + 4), description: '' })
      }
    }
    out.push({
      accession: accessionOf(i),
      name: `SCALE${i}_SYNTH`,
      organism: ORGANISMS[i % ORGANISMS.length],
      description: `synthetic protein ${i}`,
      sequence,
      annotations
    })
  }
  return out
}

/**
 * Sparse latents with a spread of frequencies: the alive features are cut into NNZ·2 strata; stratum s fires
 * with a probability falling linearly with s (about NNZ strata fire per residue), and within a stratum low ids
 * are likelier. Rows come out sorted and without repeats. Helix residues light feature 1 strongly.
 */
function syntheticLatents(
  id: string,
  length: number,
  annotations: ResidueAnnotation[],
  rand: () => number,
  scale: Float32Array
): SparseLatents {
  const strata = NNZ * 2
  const alive = FEATURES - DEAD
  const size = Math.floor(alive / strata)
  const helix = new Uint8Array(length)
  for (const a of annotations)
    if (a.type === 'helix') for (let r = a.start - 1; r < Math.min(length, a.end); r++) helix[r] = 1
  const indptr = new Uint32Array(length + 1)
  const features = new Uint32Array(length * strata)
  const values = new Float32Array(length * strata)
  let k = 0
  for (let r = 0; r < length; r++) {
    for (let s = 0; s < strata; s++) {
      let f: number
      if (s === 0 && helix[r]) f = HELIX_FEATURE
      else {
        if (rand() >= (strata - s) / strata) continue
        const u = rand()
        f = s * size + Math.floor(size * u * u)
        if (f === HELIX_FEATURE) f = HELIX_FEATURE + 1
      }
      features[k] = f
      values[k] = f === HELIX_FEATURE && helix[r] ? 4 + rand() : (0.05 + rand()) * scale[f]
      k++
    }
    indptr[r + 1] = k
  }
  return { id, rows: length, width: FEATURES, indptr, features: features.slice(0, k), values: values.slice(0, k) }
}

interface Figure {
  what: string
  ms: number
  note?: string
}
const figures: Figure[] = []

async function timed<T>(what: string, f: () => Promise<T>, note?: string): Promise<T> {
  const t = performance.now()
  const out = await f()
  figures.push({ what, ms: performance.now() - t, note })
  return out
}

/** Builds the scale project in `dataDir` (as the workbench lays projects out) and returns its id. */
async function buildScaleProject(dataDir: string): Promise<{ projectId: string; residues: number; entries: number }> {
  const rand = mulberry32(20_240)
  const proteins = syntheticProteins(PROTEINS, rand)
  const registry = new ProjectRegistry(dataDir)
  const fasta = proteins
    .map(p => `>${p.accession} ${p.name} ${p.description} OS=${p.organism}\n${p.sequence}\n`)
    .join('')
  const record = registry.create({
    id: 'scale',
    name: `Scale: ${PROTEINS.toLocaleString('en-US')} proteins × ${FEATURES.toLocaleString('en-US')} features`,
    format: 'fasta',
    text: fasta,
    modelId: DEMO_ESM2_ID,
    saeId: DEMO_SAE_ID,
    layer: DEMO_SAE_LAYER
  })
  const store = LatentStore.open(registry.storePath(record.id))
  let residues = 0
  let entries = 0
  try {
    const ids = await timed('build: add 20,000 proteins (one transaction)', async () => store.addProteins(proteins).ids)
    const run = store.ensureRun({
      modelName: 'synthetic',
      modelHash: 'synthetic-model',
      saeName: 'synthetic SAE',
      saeHash: 'synthetic-sae',
      layer: DEMO_SAE_LAYER,
      dSae: FEATURES
    })
    const scale = Float32Array.from(
      { length: FEATURES },
      (_, f) => 0.5 + ((Math.imul(f + 1, 2654435761) >>> 0) % 1000) / 100
    )
    await timed('build: synthesize + encode + write latents (2,000 proteins per transaction)', async () => {
      const BATCH = 2000
      for (let i = 0; i < proteins.length; i += BATCH) {
        const items = proteins.slice(i, i + BATCH).map((p, j) => {
          const latents = syntheticLatents(String(ids[i + j]), p.sequence.length, p.annotations, rand, scale)
          residues += latents.rows
          entries += latents.indptr[latents.rows]
          return { proteinId: ids[i + j], latents }
        })
        store.putLatents(run.id, items)
      }
    })
    await timed('build: feature statistics (store.computeStatistics)', () => store.computeStatistics(run.id))
    for (const [i, f] of PROBES.entries()) store.setFeatureLabel({ runId: run.id, feature: f, label: `probe ${i}` })
    store.setRunStatus(run.id, 'complete')
  } finally {
    store.close()
  }
  return { projectId: record.id, residues, entries }
}

let dataDir: string
let service: WorkbenchService
let server: RunningHttpServer
let browser: Browser
let page: Page
let projectId: string
const pageErrors: string[] = []

beforeAll(async () => {
  const staticDir = buildRenderer()
  mkdirSync(SCREENSHOTS, { recursive: true })
  dataDir = join(tmpdir(), `plm-sae-scale-${process.pid}-${Date.now()}`)
  mkdirSync(dataDir, { recursive: true })
  const t = performance.now()
  const built = await buildScaleProject(dataDir)
  figures.push({
    what: 'build: whole project',
    ms: performance.now() - t,
    note: `${PROTEINS} proteins, ${built.residues} residues, ${built.entries} latent entries (${(built.entries / built.residues).toFixed(1)} per residue)`
  })
  projectId = built.projectId
  // No demo project: the scale project is the only one, and nothing gets indexed.
  service = await openWorkbench({
    mode: 'browser',
    dataDir,
    resourcesDir: join(REPO, 'resources'),
    runtime: { device: 'cpu', deviceId: 0, threads: 0 },
    firstRunDemo: false
  })
  server = await startHttpServer({ api: service, staticDir, port: 0 })
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
  page.setDefaultTimeout(120_000)
  page.on('pageerror', e => pageErrors.push(`pageerror: ${e.message}`))
  page.on('response', r => {
    if (r.status() >= 400) pageErrors.push(`HTTP ${r.status()} ${r.request().method()} ${r.url()}`)
  })
  page.on('console', m => {
    if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`)
  })
}, 600_000)

afterAll(async () => {
  await browser?.close().catch(() => undefined)
  await server?.close()
  await service?.close()
  if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  const width = Math.max(...figures.map(f => f.what.length))
  console.log(
    [
      `scale figures (${PROTEINS} proteins, ${FEATURES} features, ~${NNZ} latents per residue; times in ms, 2-core machine, one run):`
    ]
      .concat(
        figures.map(
          f =>
            `  ${f.what.padEnd(width)}  ${f.ms.toFixed(f.ms < 10 ? 1 : 0).padStart(7)}${f.note ? `  (${f.note})` : ''}`
        )
      )
      .join('\n')
  )
})

const tableRows = (): Promise<number> => page.locator('[data-testid="feature-table"] .vt-row').count()

/** Feature ids of the rendered rows, top to bottom. */
function renderedFeatureIds(): Promise<number[]> {
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

const waitRows = (n: number): Promise<unknown> =>
  page.waitForFunction(
    k => document.querySelector('[data-testid="feature-table"]')?.getAttribute('data-rows') === String(k),
    n
  )
const waitFirstRow = (id: number): Promise<unknown> =>
  page.waitForFunction(
    f =>
      document.querySelector('[data-testid="feature-table"] .vt-row[data-row-index="0"] [role="cell"]')?.textContent ===
      `#${f}`,
    id
  )

describe('scale: 20,000 proteins × 10,240 features', () => {
  it('the feature browser lists every feature in a window of rows, scrolls, sorts and searches', async () => {
    const info = await service.listProjects({})
    expect(info.map(p => p.id)).toEqual([projectId])
    expect(info[0].indexed).toBe(true)
    expect(info[0].featureCount).toBe(FEATURES)

    await timed('open the feature browser (all rows loaded)', async () => {
      await page.goto(`${server.url}#/features`)
      await waitRows(FEATURES)
    })
    expect(await page.getByTestId('feature-count').textContent()).toBe(`${FEATURES.toLocaleString('en-US')} features`)
    const domRows = await tableRows()
    expect(domRows).toBeGreaterThan(5)
    expect(domRows).toBeLessThan(200)

    // The overview plot: one point per feature that fires (dead ones are counted beside it, not plotted), and the
    // canvas really has them drawn.
    await timed('overview plot drawn', () =>
      page.locator('[data-testid="overview-canvas"]:not([data-points="0"])').waitFor()
    )
    const plotted = await page
      .getByTestId('overview-canvas')
      .evaluate(c => ({ points: Number(c.getAttribute('data-points')), dead: Number(c.getAttribute('data-dead')) }))
    expect(plotted.points + plotted.dead).toBe(FEATURES)
    expect(plotted.points).toBeGreaterThan(FEATURES / 2)
    const inked = await page.getByTestId('overview-canvas').evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data
      let n = 0
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++
      return n
    })
    expect(inked).toBeGreaterThan(1000)
    await page.screenshot({ path: join(SCREENSHOTS, 'scale-features.png') })

    // Keyboard: End goes to the last feature; the rows near the end are rendered, still only a window of them.
    await page.getByTestId('feature-table-body').focus()
    await timed('End key → last rows rendered', async () => {
      await page.keyboard.press('End')
      await page.waitForFunction(
        last => document.querySelector(`[data-testid="feature-table"] .vt-row[data-row-index="${last}"]`) !== null,
        FEATURES - 1
      )
    })
    expect(await page.locator('[data-testid="feature-table"] .vt-row.active').getAttribute('data-row-index')).toBe(
      String(FEATURES - 1)
    )
    const endIds = await renderedFeatureIds()
    expect(endIds.at(-1)).toBe(FEATURES - 1)
    expect(Math.min(...endIds)).toBeGreaterThan(FEATURES - 200)
    expect(await tableRows()).toBeLessThan(200)
    await timed('Home key → first rows rendered', async () => {
      await page.keyboard.press('Home')
      await page.waitForFunction(
        () => document.querySelector('[data-testid="feature-table"] .vt-row[data-row-index="0"]') !== null
      )
    })

    // Sorting: the first rows are the store's answer to the same query.
    for (const [column, key] of [
      ['max', 'max'],
      ['freqResidue', 'freqResidue'],
      ['freqProtein', 'freqProtein']
    ] as const) {
      const expected = await service.listFeatures({ projectId, sort: { key, dir: 'desc' }, limit: 10 })
      await timed(`sort by ${key} (desc)`, async () => {
        await page.getByTestId(`feature-table-sort-${column}`).click()
        await waitFirstRow(expected.items[0].id)
      })
      expect((await renderedFeatureIds()).slice(0, 10)).toEqual(expected.items.map(f => f.id))
      expect(await page.getByTestId('feature-table').getAttribute('data-rows')).toBe(String(FEATURES))
    }
    // Dead features are there too (sorted last by max, ascending first).
    const asc = await service.listFeatures({ projectId, sort: { key: 'max', dir: 'asc' }, limit: 1 })
    expect(asc.items[0].dead).toBe(true)

    // Text search on labels: the store's count and first row.
    const probes = await service.listFeatures({
      projectId,
      text: 'probe',
      sort: { key: 'freqProtein', dir: 'desc' },
      limit: 100
    })
    expect(probes.total).toBe(PROBES.length)
    await timed(
      'text search "probe"',
      async () => {
        await page.getByTestId('feature-search').fill('probe')
        await waitRows(PROBES.length)
      },
      'includes the 200 ms typing debounce'
    )
    expect(await page.getByTestId('feature-count').textContent()).toBe(`${PROBES.length} matching`)
    expect((await renderedFeatureIds())[0]).toBe(probes.items[0].id)
    const helix = await service.listFeatures({ projectId, text: 'helix', limit: 100 })
    expect(helix.items.map(f => f.id)).toContain(HELIX_FEATURE)
    await timed('clear the search (all rows again)', async () => {
      await page.getByTestId('feature-search').fill('')
      await waitRows(FEATURES)
    })
    expect(pageErrors).toEqual([])
  }, 600_000)

  it('opens a feature: detail with its top proteins', async () => {
    const detail = await service.featureDetail({ projectId, feature: HELIX_FEATURE })
    expect(detail.summary.bestConcept?.type).toBe('helix')
    expect(detail.topProteins.length).toBeGreaterThan(0)
    await timed('feature detail (Enter on a row → top protein tracks drawn)', async () => {
      await page.getByTestId('feature-table-sort-id').click()
      await waitFirstRow(0)
      await page.getByTestId('feature-table-body').focus()
      await page.keyboard.press('Home')
      await page.keyboard.press('ArrowDown')
      await page.keyboard.press('Enter')
      await page.waitForURL(/#\/feature-detail\?feature=1$/)
      await page.locator('[data-testid="top-proteins"] [data-testid="protein-track"]').first().waitFor()
    })
    expect(await page.locator('[data-testid="top-proteins"] [data-testid="protein-track"]').count()).toBe(
      detail.topProteins.length
    )
    expect(
      await page
        .locator('[data-testid="top-proteins"] [data-testid="protein-track"]')
        .first()
        .getAttribute('data-accession')
    ).toBe(detail.topProteins[0].protein.accession)
    await page.screenshot({ path: join(SCREENSHOTS, 'scale-feature-detail.png') })
    expect(pageErrors).toEqual([])
  }, 300_000)

  it('picks a protein out of 20,000: paged and searched in the store, never all in the DOM', async () => {
    await timed('protein picker: first page', async () => {
      await page.goto(`${server.url}#/protein`)
      await page.locator('[data-testid="protein-row"]').first().waitFor()
    })
    const rowsInDom = await page.locator('[data-testid="protein-row"]').count()
    expect(rowsInDom).toBeLessThanOrEqual(200)
    expect(await page.locator('[data-testid="protein-picker"] option').count()).toBeLessThan(100)
    expect(await page.getByTestId('protein-page').textContent()).toBe(
      `1–${rowsInDom} of ${PROTEINS.toLocaleString('en-US')}`
    )
    expect(await page.locator('[data-testid="protein-row"]').first().getAttribute('data-accession')).toBe(
      accessionOf(0)
    )

    await timed('protein picker: next page', async () => {
      await page.getByTestId('protein-page-next').click()
      await page.locator(`[data-testid="protein-row"][data-accession="${accessionOf(rowsInDom)}"]`).waitFor()
    })

    const target = accessionOf(PROTEINS - 7)
    const expected = await service.listProteins({ projectId, text: target, limit: 10 })
    expect(expected.total).toBe(1)
    await timed(
      `protein picker: search "${target}"`,
      async () => {
        await page.getByTestId('protein-search').fill(target)
        await page.waitForFunction(acc => {
          const rows = document.querySelectorAll('[data-testid="protein-row"]')
          return rows.length === 1 && rows[0].getAttribute('data-accession') === acc
        }, target)
      },
      'includes the 150 ms typing debounce'
    )

    const features = await service.proteinFeatures({ projectId, protein: target, limit: 1 })
    await timed('protein view: features of the picked protein', async () => {
      await page.locator(`[data-testid="protein-row"][data-accession="${target}"]`).click()
      await page.waitForFunction(
        ([acc, n]) =>
          document.querySelector('[data-testid="protein-view"]')?.getAttribute('data-protein') === acc &&
          (document.querySelector('[data-testid="protein-feature-count"]')?.textContent ?? '').startsWith(
            `${n} features`
          ),
        [target, features.total.toLocaleString('en-US')] as const
      )
    })
    await page.screenshot({ path: join(SCREENSHOTS, 'scale-protein.png') })
    expect(pageErrors).toEqual([])
  }, 300_000)

  it('answers the store queries quickly at this size (printed)', async () => {
    // The API round trips the views make, timed in-process (median of 5), for the README.
    const median = async (what: string, f: () => Promise<unknown>): Promise<void> => {
      const ts: number[] = []
      for (let i = 0; i < 5; i++) {
        const t = performance.now()
        await f()
        ts.push(performance.now() - t)
      }
      ts.sort((a, b) => a - b)
      figures.push({ what: `api: ${what}`, ms: ts[2], note: 'median of 5' })
    }
    await median('listFeatures all 10,240 by max', () =>
      service.listFeatures({ projectId, sort: { key: 'max', dir: 'desc' }, limit: 20_000 })
    )
    await median('listFeatures page of 100 by frequency', () =>
      service.listFeatures({ projectId, sort: { key: 'freqResidue', dir: 'desc' }, limit: 100 })
    )
    await median('listFeatures text "probe"', () => service.listFeatures({ projectId, text: 'probe', limit: 20_000 }))
    await median('featureOverview', () => service.featureOverview({ projectId }))
    await median('featureDetail', () => service.featureDetail({ projectId, feature: HELIX_FEATURE }))
    await median('listProteins page at offset 19,900', () =>
      service.listProteins({ projectId, offset: 19_900, limit: 100 })
    )
    await median('listProteins text search', () => service.listProteins({ projectId, text: 'S1999', limit: 100 }))
    await median('proteinFeatures', () =>
      service.proteinFeatures({ projectId, protein: accessionOf(12_345), limit: 100, withTracks: 20 })
    )
    expect(figures.length).toBeGreaterThan(8)
  })
})
