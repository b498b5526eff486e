/**
 * Exports from the browser: save text (CSV, SVG) and PNG images as downloads. Works the same in Electron
 * (the download goes through the session's save dialog) and in a browser.
 */

export function downloadBlob(fileName: string, blob: Blob): void {
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = fileName
  a.style.display = 'none'
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

export function downloadText(fileName: string, text: string, mimeType = 'text/plain'): void {
  downloadBlob(fileName, new Blob([text], { type: `${mimeType};charset=utf-8` }))
}

export function downloadDataUrl(fileName: string, dataUrl: string): void {
  const a = document.createElement('a')
  a.href = dataUrl
  a.download = fileName
  document.body.appendChild(a)
  a.click()
  a.remove()
}

/** Standalone SVG text of an <svg> element (namespaces, size, computed font and a white background). */
export function svgToString(svg: SVGSVGElement): string {
  const clone = svg.cloneNode(true) as SVGSVGElement
  const { width, height } = svgSize(svg)
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg')
  clone.setAttribute('xmlns:xlink', 'http://www.w3.org/1999/xlink')
  clone.setAttribute('width', String(width))
  clone.setAttribute('height', String(height))
  if (!clone.getAttribute('viewBox')) clone.setAttribute('viewBox', `0 0 ${width} ${height}`)
  clone.setAttribute('font-family', 'Inter, "Segoe UI", Roboto, Helvetica, Arial, sans-serif')
  clone.setAttribute('font-size', '11')
  clone.querySelectorAll('[data-export="skip"]').forEach(el => el.remove())
  const bg = document.createElementNS('http://www.w3.org/2000/svg', 'rect')
  bg.setAttribute('width', '100%')
  bg.setAttribute('height', '100%')
  bg.setAttribute('fill', '#ffffff')
  clone.insertBefore(bg, clone.firstChild)
  return '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(clone)
}

function svgSize(svg: SVGSVGElement): { width: number; height: number } {
  const w = Number(svg.getAttribute('width'))
  const h = Number(svg.getAttribute('height'))
  if (w > 0 && h > 0) return { width: w, height: h }
  const box = svg.getBoundingClientRect()
  return { width: Math.max(1, Math.round(box.width)), height: Math.max(1, Math.round(box.height)) }
}

/** Rasterise SVG text to a PNG data URL at `scale` × its size. */
export async function svgTextToPngDataUrl(svgText: string, width: number, height: number, scale = 2): Promise<string> {
  const url = URL.createObjectURL(new Blob([svgText], { type: 'image/svg+xml;charset=utf-8' }))
  try {
    const img = new Image()
    img.decoding = 'async'
    await new Promise<void>((resolve, reject) => {
      img.onload = () => resolve()
      img.onerror = () => reject(new Error('The plot could not be rendered as an image'))
      img.src = url
    })
    const canvas = document.createElement('canvas')
    canvas.width = Math.round(width * scale)
    canvas.height = Math.round(height * scale)
    const ctx = canvas.getContext('2d')
    if (!ctx) throw new Error('No 2D canvas context for the PNG export')
    ctx.fillStyle = '#ffffff'
    ctx.fillRect(0, 0, canvas.width, canvas.height)
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height)
    return canvas.toDataURL('image/png')
  } finally {
    URL.revokeObjectURL(url)
  }
}

export async function exportSvgElement(svg: SVGSVGElement, baseName: string, format: 'svg' | 'png'): Promise<void> {
  const text = svgToString(svg)
  if (format === 'svg') return downloadText(`${baseName}.svg`, text, 'image/svg+xml')
  const { width, height } = svgSize(svg)
  downloadDataUrl(`${baseName}.png`, await svgTextToPngDataUrl(text, width, height))
}

/** CSV text: values quoted when they hold a comma, quote or newline. */
export function toCsv(header: string[], rows: (string | number | null | undefined)[][]): string {
  const cell = (v: string | number | null | undefined): string => {
    const s = v === null || v === undefined ? '' : String(v)
    return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
  }
  return [header, ...rows].map(r => r.map(cell).join(',')).join('\n') + '\n'
}
