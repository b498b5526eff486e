/**
 * End to end, the 3D view in real Chromium (browser mode, the indexed demo project, Mol* over SwiftShader): the
 * canvas is never shown in Mol*'s default colours once a feature is chosen (every frame it shows after a new
 * structure is chosen already has the activation colours), the camera frames the whole tetramer, and the PNG
 * export is the whole canvas at its size, not blank, without the hover highlight. The export time is printed.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Download, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO, SCREENSHOTS, startE2e, type E2e } from './harness'

let e2e: E2e
let page: Page
let projectId: string
/** HBA_HUMAN: chains A and C of 2HHB. */
const accession = 'P69905'
const PDB = join(REPO, 'resources', 'demo', 'structures', '2hhb.pdb')

beforeAll(async () => {
  e2e = await startE2e({ indexed: true })
  await e2e.waitForIndexed()
  projectId = (await e2e.service.listProjects({}))[0].id
  page = await e2e.newPage()
  page.setDefaultTimeout(120_000)
}, 400_000)

afterAll(async () => {
  await e2e?.close()
})

interface PngSummary {
  width: number
  height: number
  /** Activation reds/oranges, the highlight blue, anything not background. */
  red: number
  blue: number
  drawn: number
  /** Bounding box of what is drawn (not background). */
  box: { minX: number; minY: number; maxX: number; maxY: number }
}

/** Decodes a PNG in the page and counts its pixels by class. */
async function summarise(png: Buffer): Promise<PngSummary> {
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
    let [red, blue, drawn] = [0, 0, 0]
    const box = { minX: c.width, minY: c.height, maxX: -1, maxY: -1 }
    for (let y = 0; y < c.height; y++)
      for (let x = 0; x < c.width; x++) {
        const i = (y * c.width + x) * 4
        const [r, g, b] = [d[i], d[i + 1], d[i + 2]]
        if (r - Math.max(g, b) > 60) red++
        if (b - Math.max(r, g) > 40) blue++
        if (r < 245 || g < 245 || b < 245) {
          drawn++
          box.minX = Math.min(box.minX, x)
          box.maxX = Math.max(box.maxX, x)
          box.minY = Math.min(box.minY, y)
          box.maxY = Math.max(box.maxY, y)
        }
      }
    return { width: c.width, height: c.height, red, blue, drawn, box }
  }, png.toString('base64'))
}

/** The 3D canvas as drawn (Mol* keeps its drawing buffer), read in the page: no scrolling, no page border. */
async function canvasPng(): Promise<Buffer> {
  const url = await page.evaluate(() =>
    (document.querySelector('[data-testid="structure-viewer"] canvas') as HTMLCanvasElement).toDataURL('image/png')
  )
  return Buffer.from(url.slice(url.indexOf(',') + 1), 'base64')
}

describe('3D view: colours from the first frame, the whole structure framed, the PNG export', () => {
  let feature: number

  it('shows no frame in default colours after a structure is chosen: the first visible frame is coloured', async () => {
    const r = await e2e.service.proteinFeatures({ projectId, protein: accession, limit: 200, withTracks: 200 })
    feature = [...r.items].sort((a, b) => b.firingResidues - a.firingResidues || b.max - a.max)[0].feature
    await page.goto(`${e2e.baseUrl}#/structure?protein=${accession}&feature=${feature}`)
    await page.locator('[data-testid="structure-viewer"][data-loaded="project:2hhb"][data-visible="true"]').waitFor()
    // Watch every frame the viewer shows from now on: on each change of its attributes, while it is visible,
    // sample the canvas at the next animation frame (after Mol*'s own draw in that frame, before the paint).
    await page.evaluate(() => {
      const viewer = document.querySelector('[data-testid="structure-viewer"]') as HTMLElement
      const frames: { loaded: string; theme: string; red: number; grey: number }[] = []
      ;(window as unknown as { __frames: typeof frames }).__frames = frames
      new MutationObserver(() => {
        if (viewer.dataset.visible !== 'true') return
        requestAnimationFrame(() => {
          const gl = viewer.querySelector('canvas') as HTMLCanvasElement
          const c = document.createElement('canvas')
          c.width = gl.width
          c.height = gl.height
          const ctx = c.getContext('2d')!
          ctx.drawImage(gl, 0, 0)
          const d = ctx.getImageData(0, 0, c.width, c.height).data
          let red = 0
          let grey = 0
          for (let i = 0; i < d.length; i += 4) {
            if (d[i] - Math.max(d[i + 1], d[i + 2]) > 60) red++
            else if (d[i] < 245 && Math.abs(d[i] - d[i + 2]) < 30) grey++
          }
          frames.push({ loaded: viewer.dataset.loaded ?? '', theme: viewer.dataset.theme ?? '', red, grey })
        })
      }).observe(viewer, { attributes: true })
    })
    // Choose another structure: the same tetramer from a file.
    await page.getByTestId('structure-file').setInputFiles(PDB)
    await page.locator('[data-testid="structure-viewer"][data-loaded^="file:"][data-visible="true"]').waitFor({
      timeout: 240_000
    })
    await page.waitForTimeout(500)
    const frames = await page.evaluate(
      () => (window as unknown as { __frames: { loaded: string; theme: string; red: number; grey: number }[] }).__frames
    )
    const shown = frames.filter(f => f.loaded.startsWith('file:'))
    expect(shown.length).toBeGreaterThan(0)
    // The very first frame shown of the new structure is in the activation colours already.
    expect(shown[0].theme).toBe('plm-activation')
    expect(shown[0].red).toBeGreaterThan(20)
    expect(shown[0].grey).toBeGreaterThan(200)
    // And the viewer was never visible in between with a frame of something else.
    for (const f of frames) expect(f.theme).toBe('plm-activation')
  }, 400_000)

  it('frames the whole tetramer: nothing drawn touches the canvas edges', async () => {
    const png = await canvasPng()
    writeFileSync(join(SCREENSHOTS, 'structure-view-canvas.png'), png)
    const { width, height, box } = await summarise(png)
    expect(box.maxX).toBeGreaterThan(0)
    // Inside the canvas with a margin on every side (a crop would cut it at an edge)…
    expect(box.minX).toBeGreaterThan(2)
    expect(box.minY).toBeGreaterThan(2)
    expect(box.maxX).toBeLessThan(width - 3)
    expect(box.maxY).toBeLessThan(height - 3)
    // …and filling it (a whole-structure frame, not a speck): the larger side spans most of the canvas.
    expect(Math.max((box.maxX - box.minX) / width, (box.maxY - box.minY) / height)).toBeGreaterThan(0.5)
  }, 120_000)

  it('exports the whole canvas as PNG, not blank, without the hover highlight', async () => {
    // Tall enough that nothing scrolls (a scroll would move the track from under the pointer and end the hover).
    await page.setViewportSize({ width: 1400, height: 1500 })
    // Hover a residue on the sequence track: Mol* highlights it in blue on the canvas.
    await page.getByTestId('activation-track').scrollIntoViewIfNeeded()
    const track = page.getByTestId('activation-track').locator('svg').first()
    const tbox = (await track.boundingBox())!
    await page.mouse.move(tbox.x + 92 + (tbox.width - 102) * (40.5 / 142), tbox.y + 10)
    await page.waitForFunction(
      () => document.querySelector('[data-testid="activation-track"]')?.getAttribute('data-hovered') !== ''
    )
    await expect
      .poll(async () => (await summarise(await canvasPng())).blue, { timeout: 60_000, interval: 1000 })
      .toBeGreaterThan(3)
    expect(await page.getByTestId('activation-track').getAttribute('data-hovered')).not.toBe('')
    const size = await page.evaluate(() => {
      const c = document.querySelector('[data-testid="structure-viewer"] canvas') as HTMLCanvasElement
      return { width: c.width, height: c.height }
    })
    const times: number[] = []
    let png: Buffer = Buffer.alloc(0)
    for (let k = 0; k < 2; k++) {
      const t0 = Date.now()
      const [download] = (await Promise.all([
        page.waitForEvent('download', { timeout: 120_000 }),
        // From the keyboard: the pointer stays on the track, and so does the highlight.
        page
          .getByTestId('structure-export')
          .getByRole('button', { name: 'PNG' })
          .focus()
          .then(() => page.keyboard.press('Enter'))
      ])) as [Download, unknown]
      png = readFileSync((await download.path())!)
      times.push(Date.now() - t0)
    }
    console.log(`3D view PNG export (2HHB, ${size.width}×${size.height}): ${times.join(' ms, ')} ms`)
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a')
    // The canvas's full size (the PNG header's width and height), not a crop of it.
    expect({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) }).toEqual(size)
    writeFileSync(join(SCREENSHOTS, 'structure-view-export.png'), png)
    const pixels = await summarise(png)
    expect(pixels.drawn).toBeGreaterThan((size.width * size.height) / 50)
    expect(pixels.red).toBeGreaterThan(20)
    expect(pixels.blue).toBe(0)
    // The hover was still on when the picture was taken: it is the export that cleared the highlight.
    expect(await page.getByTestId('activation-track').getAttribute('data-hovered')).not.toBe('')
  }, 300_000)

  it('zooms a track by brushing its zoom strip: residue letters appear, pan moves, reset restores', async () => {
    // Narrow enough that the 142 letters of HBA do not fit unzoomed.
    await page.setViewportSize({ width: 900, height: 900 })
    await page.goto(`${e2e.baseUrl}#/structure?protein=${accession}&feature=${feature}`)
    const track = page.getByTestId('activation-track')
    await track.waitFor()
    const { sequence } = await e2e.service.proteinDetail({ projectId, protein: accession })
    expect(await track.getAttribute('data-view')).toBe(`1-${sequence.length}`)
    expect(await page.getByTestId('activation-track-letters').count()).toBe(0)
    await track.scrollIntoViewIfNeeded()
    const strip = (await page.getByTestId('activation-track-zoom-brush').boundingBox())!
    await page.mouse.move(strip.x + strip.width * 0.3, strip.y + strip.height / 2)
    await page.mouse.down()
    await page.mouse.move(strip.x + strip.width * 0.5, strip.y + strip.height / 2, { steps: 5 })
    await page.mouse.up()
    await page.getByTestId('activation-track-letters').waitFor()
    const [start, end] = ((await track.getAttribute('data-view')) ?? '').split('-').map(Number)
    expect(start).toBeGreaterThan(30)
    expect(end).toBeLessThan(80)
    // Exactly the window's residues, in order, each letter inside its own residue's column.
    const letters = await page.getByTestId('activation-track-letters').locator('text').allTextContents()
    expect(letters.join('')).toBe(sequence.slice(start - 1, end))
    expect(await page.getByTestId('activation-track-zoom').textContent()).toContain(
      `Residues ${start}–${end} of ${sequence.length}`
    )
    // Shift+wheel pans to later residues, keeping the window's size.
    const svg = (await track.locator('svg').first().boundingBox())!
    await page.mouse.move(svg.x + svg.width / 2, svg.y + 20)
    await page.keyboard.down('Shift')
    await page.mouse.wheel(0, 120)
    await page.keyboard.up('Shift')
    await page.waitForFunction(
      s => document.querySelector('[data-testid="activation-track"]')?.getAttribute('data-view') !== s,
      `${start}-${end}`
    )
    const [start2, end2] = ((await track.getAttribute('data-view')) ?? '').split('-').map(Number)
    expect(start2).toBeGreaterThan(start)
    expect(end2 - start2).toBe(end - start)
    await page.getByTestId('activation-track-zoom-reset').click()
    await page.waitForFunction(
      n => document.querySelector('[data-testid="activation-track"]')?.getAttribute('data-view') === `1-${n}`,
      sequence.length
    )
    expect(await page.getByTestId('activation-track-letters').count()).toBe(0)
    await page.setViewportSize({ width: 1400, height: 900 })
  }, 300_000)

  it('logged no page errors', () => {
    expect(e2e.pageErrors.filter(e => !/favicon/.test(e))).toEqual([])
  })
})
