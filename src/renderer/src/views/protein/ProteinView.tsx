/**
 * One protein: every feature that fires on it (sorted by max or mean over a residue range brushed on the
 * sequence), the selected feature's per-residue track over the annotations, a heat map of the top features,
 * and the 3D structure coloured by the selected feature, with hover linked both ways.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { api } from '@renderer/api'
import { ConceptChip, useConceptFloor } from '@renderer/components/concept-chip'
import {
  type FeatureHitSortKey,
  type ProteinFeatureHit,
  type ProteinFeaturesResult,
  type ResidueRange
} from '@shared/store-types'
import { downloadText, toCsv } from '@renderer/components/export-file'
import { formatNumber } from '@renderer/components/format'
import { useElementWidth } from '@renderer/components/use-async'
import { VirtualTable, type Column } from '@renderer/components/VirtualTable'
import { ActivationTrack } from '@renderer/plots/ActivationTrack'
import { ResidueHeatmap } from '@renderer/plots/Heatmap'
import { StructureView } from '../structure/StructureView'
import type { PastedRecord } from '@shared/sequence-text'
import { PastedRecordChoice } from './PastedRecordChoice'
import { ProteinPicker } from './ProteinPicker'

export type ProteinSource = { kind: 'stored'; protein: string } | { kind: 'live'; name: string; sequence: string }

export interface ProteinViewProps {
  projectId: string
  source: ProteinSource | null
  featureId?: number
  /** The source picked; `pasted` is every record of a paste (the first is the source). */
  onPickSource: (source: ProteinSource | null, pasted?: PastedRecord[]) => void
  /** The records of the last paste, when it held several (the live source is one of them). */
  pastedRecords?: PastedRecord[]
  onOpenFeature: (feature: number) => void
  onSelectFeature?: (feature: number) => void
  /** The project structure to show (from the URL), and where a structure the user picks is reported. */
  structureId?: string
  onStructureChange?: (structureId: string) => void
}

const HIT_LIMIT = 200
const HEATMAP_ROWS = 16

export function ProteinView({
  projectId,
  source,
  featureId,
  onPickSource,
  onOpenFeature,
  onSelectFeature,
  structureId,
  onStructureChange,
  pastedRecords
}: ProteinViewProps) {
  if (!source) {
    return (
      <div className="wb-view" data-testid="protein-view">
        <div className="wb-header">
          <h2>Protein</h2>
          <span className="muted">Pick a protein of the project or paste a sequence</span>
        </div>
        <ProteinPicker
          projectId={projectId}
          onPick={p => onPickSource({ kind: 'stored', protein: p.accession })}
          onSequence={(name, sequence, pasted) => onPickSource({ kind: 'live', name, sequence }, pasted)}
        />
      </div>
    )
  }
  return (
    <ProteinFeatures
      key={source.kind === 'stored' ? source.protein : source.sequence}
      projectId={projectId}
      source={source}
      featureId={featureId}
      onPickSource={onPickSource}
      onOpenFeature={onOpenFeature}
      onSelectFeature={onSelectFeature}
      structureId={structureId}
      onStructureChange={onStructureChange}
      pastedRecords={pastedRecords}
    />
  )
}

function ProteinFeatures({
  projectId,
  source,
  featureId,
  onPickSource,
  onOpenFeature,
  onSelectFeature,
  structureId,
  onStructureChange,
  pastedRecords
}: ProteinViewProps & { source: ProteinSource }) {
  const leftRef = useRef<HTMLDivElement>(null)
  const leftWidth = useElementWidth(leftRef, 700)
  const [range, setRange] = useState<ResidueRange | null>(null)
  const [sortBy, setSortBy] = useState<FeatureHitSortKey>('max')
  const [result, setResult] = useState<ProteinFeaturesResult | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [loading, setLoading] = useState(true)
  const [selected, setSelected] = useState<number | null>(featureId ?? null)
  const [hovered, setHovered] = useState<number | null>(null)
  const tracks = useRef(new Map<number, { activations: number[]; globalMax: number; label: string }>())

  useEffect(() => {
    if (featureId !== undefined) setSelected(featureId)
  }, [featureId])

  useEffect(() => {
    let live = true
    setLoading(true)
    const common = { projectId, sortBy, limit: HIT_LIMIT, withTracks: HIT_LIMIT, ...(range ? { range } : {}) }
    const request =
      source.kind === 'stored'
        ? api.proteinFeatures({ ...common, protein: source.protein })
        : api.liveFeatures({ ...common, sequence: source.sequence })
    request.then(
      r => {
        if (!live) return
        for (const h of r.items)
          if (h.activations)
            tracks.current.set(h.feature, { activations: h.activations, globalMax: h.globalMax, label: h.label })
        setResult(r)
        setError(null)
        setLoading(false)
        setSelected(s => (s !== null ? s : (r.items[0]?.feature ?? null)))
      },
      (e: Error) => {
        if (!live) return
        setError(e.message)
        setLoading(false)
      }
    )
    return () => {
      live = false
    }
  }, [projectId, source, sortBy, range])

  // The selected feature may rank below the first page of hits: page through the hits until its track is found.
  const [, setTrackTick] = useState(0)
  useEffect(() => {
    if (!result || selected === null || tracks.current.has(selected)) return
    let live = true
    const find = async (): Promise<void> => {
      for (
        let offset = result.items.length, pages = 0;
        offset < result.total && pages < 50;
        offset += HIT_LIMIT, pages++
      ) {
        const common = { projectId, sortBy: 'max' as const, offset, limit: HIT_LIMIT, withTracks: HIT_LIMIT }
        const r =
          source.kind === 'stored'
            ? await api.proteinFeatures({ ...common, protein: source.protein })
            : await api.liveFeatures({ ...common, sequence: source.sequence })
        if (!live) return
        for (const h of r.items)
          if (h.activations)
            tracks.current.set(h.feature, { activations: h.activations, globalMax: h.globalMax, label: h.label })
        if (tracks.current.has(selected)) break
      }
      if (!tracks.current.has(selected))
        tracks.current.set(selected, {
          activations: new Array<number>(result.sequence.length).fill(0),
          globalMax: 1,
          label: ''
        })
      setTrackTick(t => t + 1)
    }
    find().catch((e: Error) => live && setError(e.message))
    return () => {
      live = false
    }
  }, [result, selected, projectId, source])

  const select = useCallback(
    (f: number) => {
      setSelected(f)
      onSelectFeature?.(f)
    },
    [onSelectFeature]
  )

  const sequence = result?.sequence ?? (source.kind === 'live' ? source.sequence : '')
  const selTrack = selected !== null ? tracks.current.get(selected) : undefined
  const selectedIndex = result ? result.items.findIndex(h => h.feature === selected) : -1
  const selHit = selectedIndex >= 0 ? result?.items[selectedIndex] : undefined
  const heatRows = useMemo(
    () =>
      (result?.items ?? [])
        .slice(0, HEATMAP_ROWS)
        .filter(h => h.activations)
        .map(h => ({ feature: h.feature, label: h.label, activations: h.activations as number[], max: h.globalMax })),
    [result]
  )

  const [conceptFloor] = useConceptFloor()
  const columns: Column<ProteinFeatureHit>[] = [
    {
      key: 'feature',
      title: 'Feature',
      width: '70px',
      numeric: true,
      render: h => <span className="mono">#{h.feature}</span>
    },
    {
      key: 'label',
      title: 'Label',
      width: 'minmax(90px, 1.5fr)',
      render: h => h.label || <span className="muted">—</span>
    },
    {
      key: 'concept',
      title: 'Concept',
      width: 'minmax(90px, 1.2fr)',
      render: h => <ConceptChip concept={h.bestConcept} floor={conceptFloor} />
    },
    {
      key: 'max',
      title: 'Max',
      width: '60px',
      numeric: true,
      sortKey: 'max',
      render: h =>
        h.max > h.globalMax ? (
          <span
            className="above-range"
            data-testid="above-range-cell"
            title={`above the project's max ${formatNumber(h.globalMax)} for this feature: colours clip there`}
          >
            {formatNumber(h.max)}↑
          </span>
        ) : (
          formatNumber(h.max)
        )
    },
    { key: 'mean', title: 'Mean', width: '60px', numeric: true, sortKey: 'mean', render: h => formatNumber(h.mean) },
    { key: 'firing', title: 'Firing', width: '56px', numeric: true, render: h => h.firingResidues },
    {
      key: 'argmax',
      title: 'Peak',
      width: '56px',
      numeric: true,
      render: h => `${sequence[h.argmax - 1] ?? ''}${h.argmax}`
    }
  ]

  const exportCsv = (): void => {
    if (!result) return
    const name = result.protein?.accession ?? (source.kind === 'live' ? source.name : 'protein')
    const text = toCsv(
      [
        'feature',
        'label',
        'best_concept',
        'best_f1',
        'max',
        'mean',
        'argmax',
        'firing_residues',
        'range_start',
        'range_end'
      ],
      result.items.map(h => [
        h.feature,
        h.label,
        h.bestConcept?.type ?? '',
        h.bestConcept?.f1 ?? '',
        h.max,
        h.mean,
        h.argmax,
        h.firingResidues,
        result.range.start,
        result.range.end
      ])
    )
    downloadText(`${name}-features.csv`, text, 'text/csv')
  }

  const protein = result?.protein
  const title = protein ? protein.accession : source.kind === 'live' ? source.name : source.protein
  const trackWidth = Math.max(300, leftWidth - 30)

  return (
    <div className="wb-view" data-testid="protein-view" data-protein={title}>
      <div className="wb-header">
        <h2>
          <span className="mono">{title}</span>
          {protein?.name ? ` · ${protein.name}` : ''}
        </h2>
        <span className="muted">
          {protein?.organism ? `${protein.organism} · ` : ''}
          {sequence.length ? `${sequence.length} aa` : ''}
          {source.kind === 'live' ? ' · live (not stored)' : ''}
        </span>
        <span className="spacer" />
        <button type="button" className="btn" onClick={() => onPickSource(null)}>
          Change protein
        </button>
      </div>
      {source.kind === 'live' && pastedRecords && (
        <PastedRecordChoice
          records={pastedRecords}
          shown={pastedRecords.findIndex(r => r.name === source.name && r.sequence === source.sequence)}
          onChoose={r => onPickSource({ kind: 'live', name: r.name, sequence: r.sequence })}
        />
      )}
      {error && <div className="error">{error}</div>}
      {loading && !result && <div className="loading">Computing the features of {title}…</div>}
      {result && (
        <div className="wb-grid-side">
          <div ref={leftRef} style={{ display: 'flex', flexDirection: 'column', gap: 12, minWidth: 0 }}>
            <div className="wb-panel" data-testid="protein-track-panel">
              <ActivationTrack
                sequence={sequence}
                activations={selTrack?.activations ?? new Array<number>(sequence.length).fill(0)}
                max={selTrack?.globalMax ?? 1}
                annotations={result.annotations}
                width={trackWidth}
                hovered={hovered}
                onHover={setHovered}
                range={range}
                onRange={setRange}
                exportName={`${title}-feature-${selected ?? 'none'}-track`}
                testId="sequence-track"
                title={
                  selected !== null
                    ? `Feature #${selected}${selTrack?.label ? ` · ${selTrack.label}` : ''}`
                    : 'No feature fires'
                }
                headerExtra={
                  <>
                    {selected !== null && (
                      <button
                        type="button"
                        className="btn-small"
                        onClick={() => onOpenFeature(selected)}
                        data-testid="open-feature"
                      >
                        open feature
                      </button>
                    )}
                    {range && (
                      <button
                        type="button"
                        className="btn-small"
                        onClick={() => setRange(null)}
                        data-testid="clear-range"
                      >
                        clear range {range.start}–{range.end}
                      </button>
                    )}
                  </>
                }
              />
            </div>
            {heatRows.length > 0 && (
              <div className="wb-panel">
                <ResidueHeatmap
                  rows={heatRows}
                  length={sequence.length}
                  width={trackWidth}
                  hovered={hovered}
                  onHover={setHovered}
                  range={range}
                  activeFeature={selected}
                  onPickFeature={select}
                  exportName={`${title}-heatmap`}
                />
              </div>
            )}
            <div className="wb-panel" style={{ padding: 0, border: 'none' }}>
              <div className="wb-toolbar" style={{ marginBottom: 8 }}>
                <h3>Features firing {range ? `in ${range.start}–${range.end}` : 'on the protein'}</h3>
                <span className="muted" data-testid="protein-feature-count">
                  {result.total.toLocaleString()} features
                  {result.total > result.items.length ? ` (top ${result.items.length} shown)` : ''}
                </span>
                <span className="spacer" style={{ flex: 1 }} />
                <label>
                  Sort by
                  <select
                    value={sortBy}
                    onChange={e => setSortBy(e.target.value as FeatureHitSortKey)}
                    data-testid="protein-sort"
                  >
                    <option value="max">max</option>
                    <option value="mean">mean</option>
                  </select>
                </label>
                <button type="button" className="btn-small" onClick={exportCsv} data-testid="protein-features-csv">
                  CSV
                </button>
              </div>
              <VirtualTable
                rows={result.items}
                columns={columns}
                rowKey={h => h.feature}
                height={340}
                activeIndex={selectedIndex}
                onActiveIndexChange={i => {
                  const h = result.items[i]
                  if (h) select(h.feature)
                }}
                onOpen={h => onOpenFeature(h.feature)}
                sort={{ key: sortBy, dir: 'desc' }}
                onSort={k => setSortBy(k as FeatureHitSortKey)}
                testId="protein-feature-table"
                emptyText={loading ? 'Loading…' : 'No feature fires in this range'}
              />
            </div>
          </div>
          <div style={{ position: 'sticky', top: 0 }}>
            <StructureView
              projectId={projectId}
              sequence={sequence}
              accession={protein?.accession}
              structureId={structureId}
              onStructureChosen={onStructureChange}
              activations={selTrack?.activations ?? null}
              max={selTrack?.globalMax ?? 1}
              featureLabel={
                selected !== null ? `#${selected}${selTrack?.label ? ` ${selTrack.label}` : ''}` : undefined
              }
              hovered={hovered}
              onHover={setHovered}
            />
            {selHit && selHit.max > selHit.globalMax && (
              <div className="warning" style={{ fontSize: 12, marginTop: 6 }} data-testid="above-range">
                #{selHit.feature} reaches {formatNumber(selHit.max)} here, above its maximum over the project (
                {formatNumber(selHit.globalMax)}): the track and the structure colours stop at the project's maximum, so
                higher values look the same.
              </div>
            )}
            {selHit && (
              <div className="muted" style={{ fontSize: 12, marginTop: 6 }}>
                #{selHit.feature}: max {formatNumber(selHit.max)} at {sequence[selHit.argmax - 1]}
                {selHit.argmax}, mean {formatNumber(selHit.mean)}, {selHit.firingResidues} residue
                {selHit.firingResidues === 1 ? '' : 's'} firing{range ? ` in ${range.start}–${range.end}` : ''}
              </div>
            )}
          </div>
        </div>
      )}
    </div>
  )
}
