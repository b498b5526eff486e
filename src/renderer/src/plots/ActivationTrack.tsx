import * as d3 from 'd3'
import { useEffect, useId, useMemo, useRef, useState, type ReactNode } from 'react'
import { ANNOTATION_LABELS, type AnnotationType, type ResidueAnnotation, type ResidueRange } from '@shared/store-types'
import { ExportButtons } from '@renderer/components/ExportButtons'
import { exportSvgElement } from '@renderer/components/export-file'
import { activationScale } from '@renderer/lib/colour-scale'
import { annotationColour, TRACK_ORDER } from './plot-utils'
import { ResidueSvg } from './ResidueSvg'

export interface ActivationTrackProps {
  sequence: string
  /** Per residue (0-based index = residue − 1). */
  activations: number[]
  /** Scale max (the feature's global max, so tracks of different proteins compare). */
  max: number
  annotations?: ResidueAnnotation[]
  width: number
  /** Height of the activation bars. */
  barHeight?: number
  /** Hovered residue (1-based) shown as a band; null for none. */
  hovered?: number | null
  onHover?: (residue: number | null) => void
  /** Selected residue range; with `onRange` the user can brush a new one. */
  range?: ResidueRange | null
  onRange?: (range: ResidueRange | null) => void
  /** Residues (1-based) drawn with a marker below the sequence, e.g. those absent from the structure. */
  exportName?: string
  showExport?: boolean
  title?: string
  /** Extra controls in the header row (next to the title). */
  headerExtra?: ReactNode
  testId?: string
}

const LEFT = 92
const RIGHT = 10
const ANN_H = 9
const ANN_GAP = 3
/** Height of the zoom strip under the tracks (the whole sequence; its brush is the zoomed window). */
const NAV_H = 14
/** The narrowest window one can zoom to, in residues. */
const MIN_WINDOW = 10

/** A window of residues (1-based, inclusive). */
interface ResidueWindow {
  start: number
  end: number
}

/** `w` moved by `shift` residues and scaled by `factor` around residue `at`, kept inside 1…len. */
export function moveWindow(w: ResidueWindow, len: number, shift: number, factor = 1, at = (w.start + w.end) / 2) {
  const size = Math.min(len, Math.max(Math.min(MIN_WINDOW, len), Math.round((w.end - w.start + 1) * factor)))
  let start = Math.round(at - (at - w.start) * (size / (w.end - w.start + 1)) + shift)
  start = Math.max(1, Math.min(len - size + 1, start))
  return { start, end: start + size - 1 }
}

/**
 * Per-residue activation bars over the sequence, the annotation tracks aligned under them. Zoom: brush a window
 * on the zoom strip under the tracks (drag it to pan, its edges to resize), Ctrl+wheel over the track zooms,
 * Shift+wheel or a horizontal wheel pans, "Reset zoom" shows the whole sequence again. Residue letters are drawn
 * whenever they fit at the current zoom.
 */
export function ActivationTrack(props: ActivationTrackProps) {
  const {
    sequence,
    activations,
    max,
    annotations = [],
    width,
    barHeight = 44,
    hovered = null,
    onHover,
    range = null,
    onRange,
    exportName = 'activation-track',
    showExport = true,
    title,
    headerExtra,
    testId = 'activation-track'
  } = props
  const svgRef = useRef<SVGSVGElement>(null)
  const brushRef = useRef<SVGGElement>(null)
  const navRef = useRef<SVGGElement>(null)
  const brushBehaviour = useRef<d3.BrushBehavior<unknown> | null>(null)
  const clipId = `track-clip-${useId().replace(/[^a-zA-Z0-9_-]/g, '')}`
  const len = sequence.length
  const iw = Math.max(10, width - LEFT - RIGHT)
  const [zoom, setZoom] = useState<ResidueWindow | null>(null)
  // The zoom of another sequence does not carry over.
  useEffect(() => setZoom(null), [len])
  const view: ResidueWindow = zoom && zoom.end <= len && zoom.start >= 1 ? zoom : { start: 1, end: Math.max(1, len) }
  const zoomed = view.start > 1 || view.end < len
  const step = iw / (view.end - view.start + 1)
  const fullStep = iw / Math.max(1, len)
  // Residue letters whenever they fit: a monospace letter is about 0.62 em wide; below 6 px they are not legible.
  const letterFont = Math.min(11, step / 0.62)
  const showLetters = letterFont >= 6
  const scale = useMemo(() => activationScale(max), [max])
  const x = (residue1: number): number => (residue1 - view.start) * step
  const inView = (i0: number): boolean => i0 + 1 >= view.start && i0 + 1 <= view.end

  const tracks = useMemo(() => {
    const byType = new Map<AnnotationType, ResidueAnnotation[]>()
    for (const a of annotations) {
      if (
        a.type === 'chain' ||
        a.type === 'variant' ||
        a.type === 'conflict' ||
        a.type === 'splice_variant' ||
        a.type === 'mutagenesis'
      )
        continue
      const list = byType.get(a.type) ?? []
      list.push(a)
      byType.set(a.type, list)
    }
    const types = [...byType.keys()].sort((a, b) => {
      const ia = TRACK_ORDER.indexOf(a)
      const ib = TRACK_ORDER.indexOf(b)
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b)
    })
    // Helix/strand/turn share one "secondary structure" row.
    const rows: { name: string; items: ResidueAnnotation[] }[] = []
    const ss: AnnotationType[] = types.filter(t => t === 'helix' || t === 'strand' || t === 'turn')
    if (ss.length) rows.push({ name: 'Secondary str.', items: ss.flatMap(t => byType.get(t) ?? []) })
    for (const t of types) if (!ss.includes(t)) rows.push({ name: ANNOTATION_LABELS[t], items: byType.get(t) ?? [] })
    return rows
  }, [annotations])

  const seqTop = barHeight + 2
  const axisTop = seqTop + (showLetters ? 14 : 0)
  const annTop = axisTop + 18
  const navTop = annTop + tracks.length * (ANN_H + ANN_GAP) + 4
  const height = navTop + NAV_H + 4
  const firing = activations.reduce((n, v) => n + (v > 0 ? 1 : 0), 0)
  const posTicks = useMemo(() => {
    const ticks = d3
      .scaleLinear()
      .domain([view.start, Math.max(view.start + 1, view.end)])
      .ticks(Math.max(2, Math.floor(iw / 80)))
    return ticks.filter(t => Number.isInteger(t) && t >= view.start && t <= view.end)
  }, [view.start, view.end, iw])

  // Brush for a residue range.
  useEffect(() => {
    const g = brushRef.current
    if (!g || !onRange) return
    const brush = d3
      .brushX()
      .extent([
        [0, 0],
        [iw, navTop - 2]
      ])
      .on('end', (event: d3.D3BrushEvent<unknown>) => {
        if (!event.sourceEvent) return // programmatic move
        const sel = event.selection as [number, number] | null
        if (!sel) return onRange(null)
        const start = Math.max(1, Math.min(len, view.start + Math.floor(sel[0] / step)))
        const end = Math.max(start, Math.min(len, view.start - 1 + Math.ceil(sel[1] / step)))
        onRange({ start, end })
      })
    brushBehaviour.current = brush
    const sel = d3.select(g)
    sel.call(brush)
    return () => {
      sel.on('.brush', null)
      sel.selectAll('*').remove()
      brushBehaviour.current = null
    }
  }, [iw, navTop, len, step, view.start, onRange])

  // Shows `range` on the brush (again after the brush is rebuilt: iw, height, onRange); the range's bounds are the
  // dependencies, not its object, so a new object with the same bounds moves nothing.
  const rangeStart = range?.start
  const rangeEnd = range?.end
  useEffect(() => {
    const g = brushRef.current
    const brush = brushBehaviour.current
    if (!g || !brush) return
    const sel = d3.select(g) as d3.Selection<SVGGElement, unknown, null, undefined>
    const a = Math.max(0, (rangeStart ?? 0) - view.start) * step
    const b = Math.min(iw, ((rangeEnd ?? 0) - view.start + 1) * step)
    if (rangeStart !== undefined && rangeEnd !== undefined && b > a) brush.move(sel, [a, b])
    else brush.move(sel, null)
  }, [rangeStart, rangeEnd, step, iw, navTop, view.start, onRange])

  // The zoom strip: its brush is the window shown (brush a new one to zoom, drag it to pan).
  const zoomBehaviour = useRef<d3.BrushBehavior<unknown> | null>(null)
  useEffect(() => {
    const g = navRef.current
    if (!g || len < 2) return
    const brush = d3
      .brushX()
      .extent([
        [0, 0],
        [iw, NAV_H]
      ])
      .on('end', (event: d3.D3BrushEvent<unknown>) => {
        if (!event.sourceEvent) return // programmatic move
        const sel = event.selection as [number, number] | null
        if (!sel) return setZoom(null)
        const start = Math.max(1, Math.min(len, Math.floor(sel[0] / fullStep) + 1))
        const end = Math.max(start, Math.min(len, Math.ceil(sel[1] / fullStep)))
        setZoom(moveWindow({ start, end }, len, 0))
      })
    zoomBehaviour.current = brush
    const sel = d3.select(g)
    sel.call(brush)
    return () => {
      sel.on('.brush', null)
      sel.selectAll('*').remove()
      zoomBehaviour.current = null
    }
  }, [iw, len, fullStep])
  useEffect(() => {
    const g = navRef.current
    const brush = zoomBehaviour.current
    if (!g || !brush) return
    const sel = d3.select(g) as d3.Selection<SVGGElement, unknown, null, undefined>
    brush.move(sel, zoomed ? [(view.start - 1) * fullStep, view.end * fullStep] : null)
  }, [zoomed, view.start, view.end, fullStep])

  // Wheel over the track: Ctrl (or ⌘) zooms around the pointer, Shift or a horizontal wheel pans.
  const wheelState = useRef({ view, len, step })
  wheelState.current = { view, len, step }
  useEffect(() => {
    const svg = svgRef.current
    if (!svg) return
    const onWheel = (e: WheelEvent): void => {
      const { view: w, len: n, step: st } = wheelState.current
      if (n < 2) return
      if (e.ctrlKey || e.metaKey) {
        e.preventDefault()
        const at = w.start + (e.clientX - svg.getBoundingClientRect().left - LEFT) / st
        setZoom(moveWindow(w, n, 0, Math.exp(e.deltaY * 0.002), at))
      } else if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
        e.preventDefault()
        const delta = Math.abs(e.deltaX) > Math.abs(e.deltaY) ? e.deltaX : e.deltaY
        setZoom(moveWindow(w, n, delta / st))
      }
    }
    svg.addEventListener('wheel', onWheel, { passive: false })
    return () => svg.removeEventListener('wheel', onWheel)
  }, [])

  return (
    <div
      className="plot activation-track"
      data-testid={testId}
      data-residues={len}
      data-firing={firing}
      data-range={range ? `${range.start}-${range.end}` : ''}
      data-hovered={hovered ?? ''}
      data-view={`${view.start}-${view.end}`}
    >
      {title ? (
        <div className="wb-panel-head">
          <h3>{title}</h3>
          {headerExtra}
          <span className="spacer" />
          {showExport && (
            <ExportButtons
              what="track"
              onExport={f => svgRef.current && exportSvgElement(svgRef.current, exportName, f)}
            />
          )}
        </div>
      ) : (
        showExport && (
          <div className="track-export">
            <ExportButtons
              what="track"
              onExport={f => svgRef.current && exportSvgElement(svgRef.current, exportName, f)}
            />
          </div>
        )
      )}
      {zoomed && (
        <div className="track-zoom" data-testid={`${testId}-zoom`}>
          Residues {view.start}–{view.end} of {len}{' '}
          <button
            type="button"
            className="btn-small"
            onClick={() => setZoom(null)}
            data-testid={`${testId}-zoom-reset`}
          >
            Reset zoom
          </button>
        </div>
      )}
      <ResidueSvg
        svgRef={svgRef}
        width={width}
        height={height}
        axis={{ left: LEFT, first: view.start, last: view.end, step }}
        onHover={onHover}
      >
        {barHeight >= 30 && (
          <text x={LEFT - 8} y={barHeight / 2} dy="0.32em" textAnchor="end" fontSize={10}>
            activation
          </text>
        )}
        <text x={LEFT - 8} y={barHeight - 2} textAnchor="end" fontSize={9} fill="#9aa5b1">
          0
        </text>
        <text x={LEFT - 8} y={8} textAnchor="end" fontSize={9} fill="#9aa5b1">
          {Number(scale.max.toPrecision(3))}
        </text>
        <defs>
          <clipPath id={clipId}>
            <rect x={0} y={0} width={iw} height={navTop} />
          </clipPath>
        </defs>
        <g transform={`translate(${LEFT},0)`}>
          <g clipPath={`url(#${clipId})`}>
            <rect x={0} y={0} width={iw} height={barHeight} fill="#fafbfc" />
            {activations.map((v, i) => {
              if (!(v > 0) || !inView(i)) return null
              const h = Math.max(1, Math.min(1, v / scale.max) * barHeight)
              return (
                <rect
                  key={i}
                  x={x(i + 1)}
                  y={barHeight - h}
                  width={Math.max(0.6, step - (step > 3 ? 0.6 : 0))}
                  height={h}
                  fill={scale.hex(v)}
                />
              )
            })}
            <line x1={0} x2={iw} y1={barHeight + 0.5} y2={barHeight + 0.5} stroke="#cbd2d9" />
            {showLetters && (
              <g className="mono" style={{ fontSize: letterFont }} data-testid={`${testId}-letters`}>
                {Array.from(sequence.slice(view.start - 1, view.end), (c, k) => {
                  const i = view.start - 1 + k
                  return (
                    <text
                      key={i}
                      x={x(i + 1) + step / 2}
                      y={seqTop + 10}
                      textAnchor="middle"
                      fill={activations[i] > 0 ? '#7f1d1d' : '#7b8794'}
                    >
                      {c}
                    </text>
                  )
                })}
              </g>
            )}
            <g transform={`translate(0,${axisTop})`}>
              <line x1={0} x2={iw} y1={0.5} y2={0.5} stroke="#9aa5b1" />
              {posTicks.map(t => (
                <g key={t} transform={`translate(${x(t) + step / 2},0)`}>
                  <line y2={4} stroke="#9aa5b1" />
                  <text y={14} textAnchor="middle" fontSize={9}>
                    {t}
                  </text>
                </g>
              ))}
            </g>
            {tracks.map((row, k) => (
              <g key={row.name} transform={`translate(0,${annTop + k * (ANN_H + ANN_GAP)})`}>
                <rect x={0} width={iw} height={ANN_H} fill="#f5f7fa" />
                {row.items.map((a, j) => {
                  const colour = annotationColour(a.type)
                  if (a.pairwise) {
                    return (
                      <g key={j}>
                        <rect x={x(a.start)} width={Math.max(2, step)} height={ANN_H} fill={colour} />
                        <rect x={x(a.end)} width={Math.max(2, step)} height={ANN_H} fill={colour} />
                        <line
                          x1={x(a.start) + step / 2}
                          x2={x(a.end) + step / 2}
                          y1={ANN_H / 2}
                          y2={ANN_H / 2}
                          stroke={colour}
                          strokeDasharray="2 2"
                        />
                      </g>
                    )
                  }
                  return (
                    <rect
                      key={j}
                      x={x(a.start)}
                      width={Math.max(1.5, (a.end - a.start + 1) * step)}
                      height={ANN_H}
                      rx={a.type === 'helix' ? 3 : 1}
                      fill={colour}
                    >
                      <title>{`${ANNOTATION_LABELS[a.type]} ${a.start}–${a.end}${a.description ? `: ${a.description}` : ''}`}</title>
                    </rect>
                  )
                })}
              </g>
            ))}
          </g>
          {hovered !== null && hovered >= view.start && hovered <= view.end && (
            <rect
              data-export="skip"
              className="track-residue-hover"
              x={x(hovered)}
              width={Math.max(2, step)}
              y={0}
              height={navTop - 2}
              pointerEvents="none"
            />
          )}
          {onRange && <g ref={brushRef} className="brush" data-testid={`${testId}-brush`} data-export="skip" />}
          {len >= 2 && (
            <g transform={`translate(0,${navTop})`} data-export="skip">
              <rect width={iw} height={NAV_H} fill="#eef1f5" />
              {activations.map((v, i) =>
                v > 0 ? (
                  <rect
                    key={i}
                    x={i * fullStep}
                    y={NAV_H - Math.max(1, Math.min(1, v / scale.max) * NAV_H)}
                    width={Math.max(0.5, fullStep)}
                    height={Math.max(1, Math.min(1, v / scale.max) * NAV_H)}
                    fill="#c2c9d2"
                  />
                ) : null
              )}
              <g ref={navRef} className="brush zoom-brush" data-testid={`${testId}-zoom-brush`} />
            </g>
          )}
        </g>
        {len >= 2 && (
          <text x={LEFT - 8} y={navTop + NAV_H / 2} dy="0.32em" textAnchor="end" fontSize={9} data-export="skip">
            zoom
          </text>
        )}
        {tracks.map((row, k) => (
          <text
            key={row.name}
            x={LEFT - 8}
            y={annTop + k * (ANN_H + ANN_GAP) + ANN_H / 2}
            dy="0.32em"
            textAnchor="end"
            fontSize={9}
          >
            {row.name}
          </text>
        ))}
      </ResidueSvg>
      {onHover && (
        <div className="muted" style={{ fontSize: 11, height: 16 }} data-testid={`${testId}-hover-label`}>
          {hovered !== null && hovered >= 1 && hovered <= len
            ? `${sequence[hovered - 1]}${hovered} · activation ${Number((activations[hovered - 1] ?? 0).toPrecision(3))}`
            : range
              ? `Selected residues ${range.start}–${range.end}`
              : onRange
                ? 'Drag over the track to select a residue range; drag on the zoom strip to zoom'
                : 'Drag on the zoom strip to zoom'}
        </div>
      )}
    </div>
  )
}
