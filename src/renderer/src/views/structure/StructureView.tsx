/**
 * The structure panel: choose a structure (the project's bundled ones, a local PDB/mmCIF file, or an id from
 * RCSB PDB / AlphaFold DB, fetched only when the user asks), align the protein sequence to its chains, colour
 * the chosen chain's residues by the feature's activation, and link hover with the sequence track.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { useAsync } from '@renderer/components/use-async'
import { api } from '@renderer/api'
import type { StructureInfo } from '@shared/api'
import { ExportButtons } from '@renderer/components/ExportButtons'
import { downloadDataUrl } from '@renderer/components/export-file'
import { chooseChain, paintCheck, residueKey } from '@shared/chain-mapping'
import {
  activationScale,
  HIGH_RGB,
  LIGAND_RGB,
  LOW_RGB,
  NO_DATA_RGB,
  rgbToHex,
  ZERO_RGB
} from '@renderer/lib/colour-scale'
import { parseStructureChains, type StructureChain } from '@shared/structure-reader'
import { chainColouring } from './activation-theme'
import { MolstarViewer, type ChainResidueRef, type MolstarViewerHandle, type StructureText } from './MolstarViewer'

export interface StructureViewProps {
  projectId: string
  /** The protein's sequence (what the activations are indexed on). */
  sequence: string
  /** Accession, to pick a bundled structure of this protein. */
  accession?: string
  /** A bundled structure to load first (its `StructureInfo.id`). */
  structureId?: string
  /** Called with the project structure the user picks (e.g. to keep it in the URL). */
  onStructureChosen?: (structureId: string) => void
  /** Height of the 3D view in pixels. */
  viewerHeight?: number
  /** Per sequence residue (0-based), or null to show the structure without activation colours. */
  activations: number[] | null
  /** Colour scale max (the feature's global max). */
  max: number
  featureLabel?: string
  /** The protein is still loading: keep the 3D view hidden until it can be coloured. */
  awaitColouring?: boolean
  /** Hovered sequence residue (1-based). */
  hovered?: number | null
  onHover?: (residue: number | null) => void
}

let colouringCounter = 0

export function StructureView({
  projectId,
  sequence,
  accession,
  structureId,
  onStructureChosen,
  viewerHeight,
  activations,
  max,
  featureLabel,
  awaitColouring = false,
  hovered = null,
  onHover
}: StructureViewProps) {
  const viewerRef = useRef<MolstarViewerHandle>(null)
  const structureList = useAsync(useCallback(() => api.listStructures({ projectId }), [projectId]))
  const structures = useMemo(() => structureList.data ?? [], [structureList.data])
  const structuresLoaded = structureList.data !== undefined
  const [structure, setStructure] = useState<StructureText | null>(null)
  const [sourceError, setSourceError] = useState<string | null>(null)
  const [chainOverride, setChainOverride] = useState<string | null>(null)
  const [remoteId, setRemoteId] = useState('')
  const [busy, setBusy] = useState(false)
  const [applied, setApplied] = useState<{ coloured: number; firing: number } | null>(null)
  // The structure+chain the user chose to paint although the sequence does not match it well.
  const [paintOverride, setPaintOverride] = useState<string | null>(null)

  const loadBundled = useCallback(
    async (info: StructureInfo) => {
      setBusy(true)
      setSourceError(null)
      try {
        const file = await api.loadStructure({ projectId, structureId: info.id })
        setChainOverride(null)
        setStructure({ key: `project:${info.id}`, name: info.name, format: file.format, text: file.text })
      } catch (e) {
        setSourceError((e as Error).message)
      } finally {
        setBusy(false)
      }
    },
    [projectId]
  )

  // Pick the project's structure of this protein automatically (or the one that matches the sequence best).
  useEffect(() => {
    if (structures.length === 0 || structure) return
    const wanted = structureId ? structures.find(s => s.id === structureId) : undefined
    const own = accession
      ? structures.find(s => s.proteinIds.some(p => p.toUpperCase() === accession.toUpperCase()))
      : undefined
    if (wanted ?? own) {
      void loadBundled((wanted ?? own) as StructureInfo)
      return
    }
    if (!sequence) return
    // A pasted sequence (or a protein without a known structure): take the bundled structure whose chain
    // aligns best, if one is near-identical over most of the sequence.
    let live = true
    const findMatch = async (): Promise<void> => {
      let best: { info: StructureInfo; score: number } | null = null
      for (const info of structures.slice(0, 20)) {
        const file = await api.loadStructure({ projectId, structureId: info.id })
        const found = chooseChain(sequence, parseStructureChains(file.text, file.format)).best
        if (!found) continue
        const a = found.alignment
        if (a.identity >= 0.9 && a.coverage >= 0.5 && (!best || a.matches > best.score))
          best = { info, score: a.matches }
      }
      if (live && best) await loadBundled(best.info)
    }
    findMatch().catch(() => undefined)
    return () => {
      live = false
    }
  }, [structures, accession, structureId, structure, loadBundled, sequence, projectId])

  // A protein with an accession but no structure in the project: offer its AlphaFold DB model in the fetch box.
  const alphaFoldOffer =
    structuresLoaded &&
    !!accession &&
    !structures.some(s => s.proteinIds.some(p => p.toUpperCase() === accession.toUpperCase())) &&
    !/^[0-9][A-Za-z0-9]{3}$/.test(accession)
  useEffect(() => {
    if (alphaFoldOffer && accession) setRemoteId(r => r || accession)
  }, [alphaFoldOffer, accession])

  const chains: StructureChain[] = useMemo(() => {
    if (!structure) return []
    try {
      return parseStructureChains(structure.text, structure.format)
    } catch (e) {
      setSourceError((e as Error).message)
      return []
    }
  }, [structure])

  const choice = useMemo(() => (chains.length && sequence ? chooseChain(sequence, chains) : null), [chains, sequence])
  const match = useMemo(() => {
    if (!choice) return null
    if (chainOverride) return choice.all.find(m => m.chainId === chainOverride) ?? choice.best
    return choice.best
  }, [choice, chainOverride])
  const chain = match ? chains[match.chainIndex] : null
  const check = useMemo(
    () => (match && chain ? paintCheck(match.alignment, sequence.length, chain.residues.length) : null),
    [match, chain, sequence]
  )
  const paintKey = structure && chain ? `${structure.key}|${chain.chainId}|${sequence.length}` : ''
  const refused = !!check && !check.ok && paintOverride !== paintKey

  const keyToChainIndex = useMemo(() => {
    const map = new Map<string, number>()
    chain?.residues.forEach((r, k) => map.set(residueKey(chain.chainId, r.seqNumber, r.insCode), k))
    return map
  }, [chain])

  const scale = useMemo(() => activationScale(max), [max])
  const colouring = useMemo(() => {
    if (!chain || !match || refused) return null
    const data = chainColouring(chain, match, activations, scale, featureLabel ?? '')
    return { dataId: `act-${++colouringCounter}`, colouring: data, firing: data.firing.size }
  }, [chain, match, activations, scale, featureLabel, refused])

  const highlight: ChainResidueRef | null = useMemo(() => {
    if (hovered === null || !match || !chain) return null
    const k = match.alignment.queryToTarget[hovered - 1]
    if (k === undefined || k < 0) return null
    const r = chain.residues[k]
    return { chainId: chain.chainId, seqNumber: r.seqNumber, insCode: r.insCode }
  }, [hovered, match, chain])

  const onViewerHover = useCallback(
    (ref: ChainResidueRef | null) => {
      if (!onHover) return
      if (!ref || !match) return onHover(null)
      const k = keyToChainIndex.get(residueKey(ref.chainId, ref.seqNumber, ref.insCode))
      if (k === undefined) return onHover(null)
      const q = match.alignment.targetToQuery[k]
      onHover(q >= 0 ? q + 1 : null)
    },
    [onHover, match, keyToChainIndex]
  )

  const openFile = async (file: File): Promise<void> => {
    setSourceError(null)
    const text = await file.text()
    const format = /\.(cif|mmcif)(\.txt)?$/i.test(file.name) || /^\s*data_/m.test(text.slice(0, 500)) ? 'mmcif' : 'pdb'
    setChainOverride(null)
    setStructure({ key: `file:${file.name}:${file.size}:${file.lastModified}`, name: file.name, format, text })
  }

  const fetchRemote = async (): Promise<void> => {
    const id = remoteId.trim()
    if (!id) return
    setBusy(true)
    setSourceError(null)
    try {
      // 4-character ids are PDB entries; anything else is a UniProt accession for AlphaFold DB.
      const isPdb = /^[0-9][A-Za-z0-9]{3}$/.test(id)
      const url = isPdb
        ? `https://files.rcsb.org/download/${id.toUpperCase()}.cif`
        : `https://alphafold.ebi.ac.uk/files/AF-${id.toUpperCase()}-F1-model_v4.cif`
      const res = await fetch(url)
      if (!res.ok) throw new Error(`${isPdb ? 'RCSB PDB' : 'AlphaFold DB'} has no structure ${id} (HTTP ${res.status})`)
      const text = await res.text()
      setChainOverride(null)
      setStructure({ key: `remote:${id}`, name: id.toUpperCase(), format: 'mmcif', text })
    } catch (e) {
      setSourceError(
        `Could not fetch ${id}: ${(e as Error).message}. Without internet, open a local file or a project structure instead.`
      )
    } finally {
      setBusy(false)
    }
  }

  const a = match?.alignment
  const selectedBundled = structure?.key.startsWith('project:') ? structure.key.slice('project:'.length) : ''

  return (
    <div className="wb-panel structure-view" data-testid="structure-view">
      <div className="wb-panel-head">
        <h3>Structure</h3>
        <span className="spacer" />
        <ExportButtons
          what="structure view"
          formats={['png']}
          testId="structure-export"
          onExport={async () => {
            const url = await viewerRef.current?.screenshot()
            if (url) downloadDataUrl(`${structure?.name ?? 'structure'}.png`, url)
          }}
        />
      </div>
      <div className="wb-toolbar" style={{ marginBottom: 8 }}>
        <select
          aria-label="Project structure"
          data-testid="structure-select"
          value={selectedBundled}
          onChange={e => {
            const info = structures.find(s => s.id === e.target.value)
            if (!info) return
            void loadBundled(info)
            onStructureChosen?.(info.id)
          }}
        >
          <option value="">{structures.length ? 'Project structures…' : 'No project structures'}</option>
          {structures.map(s => (
            <option key={s.id} value={s.id}>
              {s.name}
              {s.title ? ` — ${s.title.slice(0, 40)}` : ''}
            </option>
          ))}
        </select>
        <label className="btn" style={{ cursor: 'pointer' }}>
          Open file…
          <input
            type="file"
            accept=".pdb,.ent,.cif,.mmcif"
            data-testid="structure-file"
            style={{ display: 'none' }}
            onChange={e => e.target.files?.[0] && void openFile(e.target.files[0])}
          />
        </label>
        <input
          type="text"
          placeholder="PDB id or UniProt AC"
          value={remoteId}
          onChange={e => setRemoteId(e.target.value)}
          style={{ width: 150 }}
          aria-label="PDB id or UniProt accession"
          data-testid="structure-remote-id"
          onKeyDown={e => e.key === 'Enter' && void fetchRemote()}
        />
        <button
          type="button"
          className="btn"
          disabled={busy || !remoteId.trim()}
          onClick={() => void fetchRemote()}
          title="Download from RCSB PDB (4-character id) or AlphaFold DB (UniProt accession)"
        >
          Fetch
        </button>
      </div>
      {alphaFoldOffer && !structure && (
        <div className="muted" style={{ marginBottom: 8 }} data-testid="structure-alphafold-offer">
          The project has no structure of {accession}: press Fetch for its AlphaFold DB model (AF-{accession}-F1), or
          open a file.
        </div>
      )}
      {(sourceError ?? structureList.error) && (
        <div className="error" style={{ marginBottom: 8 }}>
          {sourceError ?? structureList.error}
        </div>
      )}
      <MolstarViewer
        ref={viewerRef}
        height={viewerHeight}
        awaitColouring={awaitColouring}
        structure={structure}
        colouring={colouring}
        highlight={highlight}
        onHoverResidue={onViewerHover}
        onThemeApplied={info => setApplied({ coloured: info.colouredResidues, firing: info.firingResidues })}
      />
      {chain && a && (
        <div
          className="muted structure-alignment"
          style={{ fontSize: 12, marginTop: 6 }}
          data-testid="structure-alignment"
          data-chain={chain.chainId}
          data-identity={a.identity.toFixed(4)}
          data-aligned={a.alignedPairs}
          data-firing-residues={colouring?.firing ?? 0}
          data-applied-residues={applied?.coloured ?? ''}
          data-applied-firing={applied?.firing ?? ''}
        >
          Chain{' '}
          {choice && choice.all.length > 1 ? (
            <select
              value={chain.chainId}
              onChange={e => setChainOverride(e.target.value)}
              aria-label="Chain"
              data-testid="structure-chain"
            >
              {choice.all.map(m => (
                <option key={m.chainId} value={m.chainId}>
                  {m.chainId} ({Math.round(m.alignment.identity * 100)}% id, {m.alignment.alignedPairs} aligned)
                </option>
              ))}
            </select>
          ) : (
            <b>{chain.chainId}</b>
          )}{' '}
          · identity <b>{(a.identity * 100).toFixed(1)}%</b> over {a.alignedPairs} residues ·{' '}
          {Math.round(a.coverage * 100)}% of the sequence has coordinates
          {a.missing.length > 0 && ` · ${a.missing.length} missing from the structure`}
          {a.insertions.length > 0 && ` · ${a.insertions.length} inserted in the structure`}
        </div>
      )}
      {structure && !sequence && (
        <div className="muted" style={{ marginTop: 6 }} data-testid="structure-no-protein">
          No protein chosen: choose a protein (or paste a sequence) to colour {structure.name} by its activations.
        </div>
      )}
      {structure && sequence && !match && chains.length > 0 && (
        <div className="error" style={{ marginTop: 6 }}>
          No chain of {structure.name} aligns to this protein’s sequence.
        </div>
      )}
      {check && !check.ok && chain && structure && (
        <div
          className={refused ? 'error' : 'warning'}
          style={{ marginTop: 6 }}
          data-testid="structure-paint-refused"
          data-refused={refused ? 'true' : 'false'}
        >
          {refused ? 'Not painted: ' : 'Painted on your request although '}chain {chain.chainId} of {structure.name}{' '}
          does not look like this protein ({check.reason}). Its residues would carry another protein’s activations.{' '}
          {refused ? (
            <button
              type="button"
              className="btn-small"
              onClick={() => setPaintOverride(paintKey)}
              data-testid="structure-paint-anyway"
            >
              Paint anyway
            </button>
          ) : (
            <button type="button" className="btn-small" onClick={() => setPaintOverride(null)}>
              Undo
            </button>
          )}
        </div>
      )}
      <div className="structure-legend" data-testid="structure-legend">
        {activations && refused ? (
          <span>Not coloured: the sequence does not match this structure.</span>
        ) : activations ? (
          <>
            <span>{featureLabel ?? 'activation'}</span>
            <span>0</span>
            <span
              className="ramp"
              style={{ background: `linear-gradient(to right, ${rgbToHex(LOW_RGB)}, ${rgbToHex(HIGH_RGB)})` }}
            />
            <span>{Number(scale.max.toPrecision(3))}</span>
            <span>
              <span className="swatch" style={{ background: rgbToHex(ZERO_RGB) }} />
              not firing
            </span>
            <span>
              <span className="swatch" style={{ background: rgbToHex(NO_DATA_RGB) }} />
              other chains, not in the sequence
            </span>
            <span>
              <span className="swatch" style={{ background: rgbToHex(LIGAND_RGB) }} />
              ligands
            </span>
          </>
        ) : (
          <span>Select a feature to colour the structure by its activation.</span>
        )}
      </div>
    </div>
  )
}
