/**
 * Feature browser: every latent of the project's SAE in a windowed table (id, label, best concept + F1,
 * frequency, max, mean, a small histogram), sorted, filtered and searched in the store; the overview plot
 * (frequency against max) above it selects features by brushing. ↑/↓ move, Enter opens a feature.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { OptionsOf } from '@renderer/components/table-parts'
import { api } from '@renderer/api'
import { ConceptChip, conceptName, useConceptFloor } from '@renderer/components/concept-chip'
import { ProjectModelsLine } from '@renderer/components/project-models'
import { useWorkbench } from '@renderer/navigation'
import {
  ANNOTATION_LABELS,
  CONCEPT_TYPES,
  type AnnotationType,
  type BestConcept,
  type ConceptMetric,
  type FeatureListQuery,
  type FeatureOverview,
  type FeatureSortKey,
  type FeatureSummary,
  type SortDirection
} from '@shared/store-types'
import { downloadText } from '@renderer/components/export-file'
import { formatNumber, formatPercent } from '@renderer/components/format'
import { useElementWidth } from '@renderer/components/use-async'
import { VirtualTable, type Column } from '@renderer/components/VirtualTable'
import { MiniHistogram } from '@renderer/plots/MiniHistogram'
import { OverviewScatter } from '@renderer/plots/OverviewScatter'

export interface FeatureBrowserProps {
  projectId: string
  onOpenFeature: (feature: number) => void
}

type StatusFilter = 'all' | 'alive' | 'dead'
type ConceptFilter = AnnotationType | 'any' | 'none' | ''

const PAGE = 20_000
const DEFAULT_DIR: Record<FeatureSortKey, SortDirection> = {
  id: 'asc',
  label: 'asc',
  concept: 'asc',
  bestF1: 'desc',
  freqResidue: 'desc',
  freqProtein: 'desc',
  max: 'desc',
  meanNonzero: 'desc',
  bestF1Domain: 'desc'
}

export function FeatureBrowser({ projectId, onOpenFeature }: FeatureBrowserProps) {
  const panelRef = useRef<HTMLDivElement>(null)
  const width = useElementWidth(panelRef, 1000)
  const { project } = useWorkbench()
  const [sort, setSort] = useState<{ key: FeatureSortKey; dir: SortDirection }>({ key: 'id', dir: 'asc' })
  const [text, setText] = useState('')
  const [debouncedText, setDebouncedText] = useState('')
  const [status, setStatus] = useState<StatusFilter>('all')
  const [concept, setConcept] = useState<ConceptFilter>('')
  // Concept filters follow the concept floor: below it a feature's best concept is not a finding.
  const [minF1, setMinF1] = useConceptFloor()
  // which concept metric ranks and filters features: residue F1, or InterPLM's F1 with per-domain recall
  const [metric, setMetric] = useState<ConceptMetric>('residue')
  const [brushed, setBrushed] = useState<number[] | null>(null)
  const [rows, setRows] = useState<FeatureSummary[]>([])
  const [total, setTotal] = useState(0)
  const [loading, setLoading] = useState(true)
  const [error, setError] = useState<string | null>(null)
  const [active, setActive] = useState(0)
  const [overview, setOverview] = useState<FeatureOverview | null>(null)

  useEffect(() => {
    const t = setTimeout(() => setDebouncedText(text.trim()), 200)
    return () => clearTimeout(t)
  }, [text])

  const query = useMemo((): FeatureListQuery => {
    const q: FeatureListQuery = { sort }
    if (debouncedText) q.text = debouncedText
    if (status !== 'all') q.status = status
    if (concept) q.conceptType = concept
    if (concept && concept !== 'none' && minF1 > 0) {
      if (metric === 'domain') q.minF1Domain = minF1
      else q.minF1 = minF1
    }
    if (brushed) q.ids = brushed
    return q
  }, [sort, debouncedText, status, concept, minF1, brushed, metric])

  const bestOf = (f: FeatureSummary): BestConcept | null | undefined =>
    metric === 'domain' ? f.bestConceptDomain : f.bestConcept
  const onMetric = (m: ConceptMetric): void => {
    setMetric(m)
    setSort(s =>
      s.key === 'bestF1' || s.key === 'bestF1Domain'
        ? { key: m === 'domain' ? 'bestF1Domain' : 'bestF1', dir: s.dir }
        : s
    )
  }

  useEffect(() => {
    let live = true
    setLoading(true)
    const load = async (): Promise<void> => {
      const first = await api.listFeatures({ projectId, ...query, offset: 0, limit: PAGE })
      let items = first.items
      while (items.length < first.total) {
        const next = await api.listFeatures({ projectId, ...query, offset: items.length, limit: PAGE })
        if (next.items.length === 0) break
        items = items.concat(next.items)
      }
      if (!live) return
      setRows(items)
      setTotal(first.total)
      setActive(a => Math.min(Math.max(0, a), Math.max(0, items.length - 1)))
      setError(null)
    }
    load()
      .catch((e: Error) => live && setError(e.message))
      .finally(() => live && setLoading(false))
    return () => {
      live = false
    }
  }, [projectId, query])

  useEffect(() => {
    let live = true
    api.featureOverview({ projectId }).then(
      o => live && setOverview(o),
      () => undefined
    )
    return () => {
      live = false
    }
  }, [projectId])

  const onSort = (key: string): void => {
    const k = key as FeatureSortKey
    setSort(s => (s.key === k ? { key: k, dir: s.dir === 'asc' ? 'desc' : 'asc' } : { key: k, dir: DEFAULT_DIR[k] }))
    setActive(0)
  }

  const exportCsv = async (): Promise<void> => {
    const res = await api.exportFeatures({ projectId, ...query, format: 'csv' })
    downloadText(res.fileName, res.text, res.mimeType)
  }

  const onBrush = useCallback((ids: number[] | null) => {
    setBrushed(ids)
    setActive(0)
  }, [])

  const columns: Column<FeatureSummary>[] = [
    {
      key: 'id',
      title: 'Feature',
      width: '76px',
      numeric: true,
      sortKey: 'id',
      render: f => <span className="mono">#{f.id}</span>
    },
    {
      key: 'label',
      title: 'Label',
      width: 'minmax(120px, 2fr)',
      sortKey: 'label',
      render: f =>
        f.label ? (
          f.label
        ) : f.generatedLabel ? (
          <span
            className="muted generated-label"
            title={`Generated from the statistics (no LLM): ${f.generatedLabel}`}
            data-testid="generated-label"
          >
            <span className="wb-chip">gen</span> <em>{f.generatedLabel}</em>
          </span>
        ) : (
          <span className="muted">{f.dead ? 'dead' : '—'}</span>
        )
    },
    {
      key: 'concept',
      title: 'Best concept',
      width: 'minmax(120px, 1.4fr)',
      sortKey: 'concept',
      render: f => <ConceptChip concept={bestOf(f)} floor={minF1} />
    },
    {
      key: 'f1',
      title: metric === 'domain' ? 'F1 dom.' : 'F1',
      width: '56px',
      numeric: true,
      sortKey: metric === 'domain' ? 'bestF1Domain' : 'bestF1',
      render: f => {
        const b = bestOf(f)
        return b ? <span className={b.f1 < minF1 ? 'muted' : undefined}>{b.f1.toFixed(2)}</span> : ''
      }
    },
    {
      key: 'freqResidue',
      title: 'Residues',
      width: '76px',
      numeric: true,
      sortKey: 'freqResidue',
      render: f => formatPercent(f.freqResidue)
    },
    {
      key: 'freqProtein',
      title: 'Proteins',
      width: '76px',
      numeric: true,
      sortKey: 'freqProtein',
      render: f => formatPercent(f.freqProtein)
    },
    { key: 'max', title: 'Max', width: '64px', numeric: true, sortKey: 'max', render: f => formatNumber(f.max) },
    {
      key: 'mean',
      title: 'Mean',
      width: '64px',
      numeric: true,
      sortKey: 'meanNonzero',
      render: f => formatNumber(f.meanNonzero)
    },
    { key: 'hist', title: 'Distribution', width: '92px', render: f => <MiniHistogram counts={f.histogram} /> }
  ]

  // The overview's tooltip: id, label and best concept (from the full list, whatever the table's filters).
  const [allRows, setAllRows] = useState<Map<number, FeatureSummary>>(new Map())
  useEffect(() => {
    if (!query.text && !query.status && !query.conceptType && !query.ids) setAllRows(new Map(rows.map(f => [f.id, f])))
  }, [rows, query])
  const describeFeature = useCallback(
    (id: number): string => {
      const f = allRows.get(id)
      if (!f) return `#${id}`
      const concept = f.bestConcept
        ? `${conceptName(f.bestConcept.type)} (F1 ${f.bestConcept.f1.toFixed(2)}${f.bestConcept.f1 < minF1 ? ', below the floor' : ''})`
        : 'no concept'
      return `#${id}${f.label ? ` · ${f.label}` : ''} · ${concept}`
    },
    [allRows, minF1]
  )
  const activeRow = rows[active]
  const tableHeight = Math.max(360, Math.min(640, window.innerHeight - 420))

  return (
    <div className="wb-view" data-testid="feature-browser">
      <div className="wb-header">
        <h2>Features</h2>
        <ProjectModelsLine project={project} />
        <span className="muted" data-testid="feature-count">
          {loading
            ? 'loading…'
            : `${total.toLocaleString()} ${brushed || debouncedText || status !== 'all' || concept ? 'matching' : 'features'}`}
        </span>
        <span className="spacer" />
        <button
          type="button"
          className="btn"
          onClick={() => void exportCsv().catch((e: Error) => setError(e.message))}
          data-testid="features-export-csv"
        >
          Export CSV
        </button>
      </div>
      <div className="wb-panel" ref={panelRef} style={{ minHeight: 282 }}>
        {overview && overview.ids.length > 0 ? (
          <OverviewScatter
            overview={overview}
            width={Math.max(300, width - 30)}
            height={240}
            activeId={activeRow?.id ?? null}
            onBrush={onBrush}
            onPick={onOpenFeature}
            describe={describeFeature}
          />
        ) : (
          <div className="loading">{overview ? 'No features to plot' : 'Loading the overview…'}</div>
        )}
      </div>
      <div className="wb-toolbar">
        <input
          type="search"
          placeholder="Search id, label, notes, concept…"
          value={text}
          onChange={e => setText(e.target.value)}
          style={{ width: 280 }}
          aria-label="Search features"
          data-testid="feature-search"
        />
        <label>
          Status
          <select value={status} onChange={e => setStatus(e.target.value as StatusFilter)} data-testid="feature-status">
            <option value="all">all</option>
            <option value="alive">firing</option>
            <option value="dead">dead</option>
          </select>
        </label>
        <label>
          Concept
          <select
            value={concept}
            onChange={e => setConcept(e.target.value as ConceptFilter)}
            data-testid="feature-concept"
          >
            <option value="">any or none</option>
            <option value="any">has a concept</option>
            <option value="none">no concept</option>
            <OptionsOf values={CONCEPT_TYPES} label={t => ANNOTATION_LABELS[t]} />
          </select>
        </label>
        <label title="Residue F1: precision and recall over residues. InterPLM F1: residue precision with per-domain recall (an annotation counts as found when one of its residues fires).">
          Rank by
          <select value={metric} onChange={e => onMetric(e.target.value as ConceptMetric)} data-testid="feature-metric">
            <option value="residue">residue F1</option>
            <option value="domain">InterPLM F1 (per domain)</option>
          </select>
        </label>
        <label title="Concepts with a lower F1 are muted everywhere and do not count for the concept filter">
          Concept floor F1
          <input
            type="number"
            min={0}
            max={1}
            step={0.05}
            value={minF1}
            onChange={e => setMinF1(Number(e.target.value) || 0)}
            style={{ width: 70 }}
            data-testid="concept-floor"
          />
        </label>
        {brushed && (
          <span className="wb-chip" data-testid="brush-chip">
            {brushed.length.toLocaleString()} selected in the plot{' '}
            <button type="button" className="btn-small" onClick={() => onBrush(null)}>
              clear
            </button>
          </span>
        )}
      </div>
      {error && <div className="error">{error}</div>}
      <VirtualTable
        rows={rows}
        columns={columns}
        rowKey={f => f.id}
        height={tableHeight}
        activeIndex={active}
        onActiveIndexChange={setActive}
        onOpen={f => onOpenFeature(f.id)}
        openOnClick
        sort={sort}
        onSort={onSort}
        testId="feature-table"
        emptyText={loading ? 'Loading…' : 'No feature matches these filters'}
        footer={
          <span>
            {rows.length.toLocaleString()} rows · click a row to open it, or ↑/↓ and Enter
            {activeRow ? ` · #${activeRow.id}${activeRow.label ? ` ${activeRow.label}` : ''}` : ''}
          </span>
        }
      />
    </div>
  )
}
