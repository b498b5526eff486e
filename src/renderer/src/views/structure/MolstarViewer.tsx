/**
 * Mol* (molstar 5) embedded in React without Mol*'s own UI: a PluginContext mounted into a div, structures
 * loaded from text, residues coloured by the `plm-activation` theme, hover reported as chain residues, and
 * residues highlighted from outside (the sequence track).
 *
 * Never a frame in the wrong colours: when a colouring is known at load time the representations are built with
 * the activation theme in the same state update (one build, not a default build then a recolour), and the canvas
 * stays hidden (`data-visible="false"`) while the structure loads, while a colouring is awaited, and until the
 * current colouring has been applied. The camera frames the whole structure (every chain, waters removed). The
 * PNG export reads the canvas as drawn, at its full size, after clearing hover highlights and the selection.
 */
import { useEffect, useImperativeHandle, useRef, useState, type Ref } from 'react'
import { StructureElement, StructureProperties, StructureSelection } from 'molstar/lib/mol-model/structure'
import type { PluginStateObject } from 'molstar/lib/mol-plugin-state/objects'
import type { StateObjectRef } from 'molstar/lib/mol-state'
import { PluginContext } from 'molstar/lib/mol-plugin/context'
import { DefaultPluginSpec } from 'molstar/lib/mol-plugin/spec'
import { Script } from 'molstar/lib/mol-script/script'
import { Color } from 'molstar/lib/mol-util/color'
import type { Loci } from 'molstar/lib/mol-model/loci'
import { Vec2 } from 'molstar/lib/mol-math/linear-algebra'
import { BACKGROUND_RGB, HIGHLIGHT_RGB, rgbToInt } from '@renderer/lib/colour-scale'
import {
  ACTIVATION_THEME_NAME,
  ActivationColorThemeProvider,
  registerActivationColouring,
  themeRecord,
  type ActivationColouring
} from './activation-theme'

export interface ChainResidueRef {
  chainId: string
  seqNumber: number
  insCode: string
}

export interface StructureText {
  /** Changes when a different structure is loaded. */
  key: string
  name: string
  format: 'pdb' | 'mmcif'
  text: string
}

export interface MolstarViewerHandle {
  /** PNG data URL of the current view: the whole canvas at its drawing-buffer size, without hover highlights. */
  screenshot(): Promise<string>
}

export interface MolstarViewerProps {
  structure: StructureText | null
  colouring: { dataId: string; colouring: ActivationColouring } | null
  highlight: ChainResidueRef | null
  onHoverResidue?: (residue: ChainResidueRef | null) => void
  /** Called once the theme has been applied, with the number of residues Mol* coloured from the data. */
  onThemeApplied?: (info: { dataId: string; colouredResidues: number; firingResidues: number }) => void
  ref?: Ref<MolstarViewerHandle>
  height?: number
  /** A colouring is on its way (e.g. the protein's activations are loading): keep the canvas hidden meanwhile. */
  awaitColouring?: boolean
}

type Status = { kind: 'starting' } | { kind: 'ready' } | { kind: 'loading' } | { kind: 'error'; message: string }

export function MolstarViewer({
  structure,
  colouring,
  highlight,
  onHoverResidue,
  onThemeApplied,
  ref,
  height,
  awaitColouring = false
}: MolstarViewerProps) {
  const hostRef = useRef<HTMLDivElement>(null)
  const [plugin, setPlugin] = useState<PluginContext | null>(null)
  const [status, setStatus] = useState<Status>({ kind: 'starting' })
  const [loadedKey, setLoadedKey] = useState<string | null>(null)
  const [applied, setApplied] = useState<{ dataId: string; coloured: number; firing: number } | null>(null)
  const hoverRef = useRef(onHoverResidue)
  hoverRef.current = onHoverResidue
  const appliedRef = useRef(onThemeApplied)
  appliedRef.current = onThemeApplied
  const colouringRef = useRef(colouring)
  colouringRef.current = colouring
  /** Data id of the colouring the representations were built with (at load or by the last recolour). */
  const themedRef = useRef<string | null>(null)

  // Create the plugin once per mount.
  useEffect(() => {
    const host = hostRef.current
    if (!host) return
    let disposed = false
    let syncPicking = false
    let subMove: { unsubscribe(): void } | undefined
    const p = new PluginContext(DefaultPluginSpec())
    const start = async (): Promise<void> => {
      await p.init()
      const ok = await p.mountAsync(host)
      if (!ok)
        throw new Error(
          '3D view unavailable: this browser has no WebGL (try another browser or enable hardware acceleration).'
        )
      if (!p.representation.structure.themes.colorThemeRegistry.has(ActivationColorThemeProvider)) {
        p.representation.structure.themes.colorThemeRegistry.add(ActivationColorThemeProvider)
      }
      p.canvas3d?.setProps({
        renderer: {
          backgroundColor: Color(rgbToInt(BACKGROUND_RGB)),
          highlightColor: Color(rgbToInt(HIGHLIGHT_RGB)),
          // Strong enough that a hovered residue reads as blue over any activation colour.
          highlightStrength: 0.7
        },
        camera: { helper: { axes: { name: 'off', params: {} } } }
      })
      const renderer = webglRenderer(p)
      if (/swiftshader|llvmpipe|software/i.test(renderer)) {
        // Software WebGL (no GPU, e.g. a headless server's browser): skip the costly passes to stay responsive.
        p.canvas3d?.setProps({
          multiSample: { mode: 'off' },
          postprocessing: { occlusion: { name: 'off', params: {} }, outline: { name: 'off', params: {} } }
        })
        // Mol*'s asynchronous hover picking returns nothing on software WebGL: pick synchronously (throttled).
        const canvas3d = p.canvas3d
        if (canvas3d) {
          syncPicking = true
          let last = 0
          subMove = canvas3d.input.move.subscribe(({ x, y, inside, onElement }) => {
            const now = performance.now()
            if (!inside || !onElement || now - last < 80) return
            last = now
            const pick = canvas3d.identify(Vec2.create(x, y))
            report(canvas3d.getLoci(pick?.id).loci)
          })
        }
      }
      host.parentElement?.setAttribute('data-renderer', renderer)
      if (disposed) return
      setPlugin(p)
      setStatus({ kind: 'ready' })
    }
    start().catch((e: unknown) => {
      if (!disposed) setStatus({ kind: 'error', message: e instanceof Error ? e.message : String(e) })
    })
    const report = (loci: Loci): void => {
      if (StructureElement.Loci.is(loci) && !StructureElement.Loci.isEmpty(loci)) {
        const loc = StructureElement.Loci.getFirstLocation(loci)
        if (loc) {
          hoverRef.current?.({
            chainId: StructureProperties.chain.auth_asym_id(loc),
            seqNumber: StructureProperties.residue.auth_seq_id(loc),
            insCode: StructureProperties.residue.pdbx_PDB_ins_code(loc)
          })
          return
        }
      }
      hoverRef.current?.(null)
    }
    const sub = p.behaviors.interaction.hover.subscribe(ev => {
      if (!syncPicking) report(ev.current.loci)
    })
    // A click reports its residue too (pins it in the sequence track until the pointer moves on).
    const subClick = p.behaviors.interaction.click.subscribe(ev => report(ev.current.loci))
    return () => {
      disposed = true
      sub.unsubscribe()
      subClick.unsubscribe()
      subMove?.unsubscribe()
      p.dispose()
      setPlugin(null)
    }
  }, [])

  // Load the structure.
  useEffect(() => {
    if (!plugin) return
    let live = true
    const load = async (): Promise<void> => {
      setStatus({ kind: 'loading' })
      setApplied(null)
      setLoadedKey(null)
      themedRef.current = null
      await plugin.clear()
      if (!structure) {
        setStatus({ kind: 'ready' })
        return
      }
      const data = await plugin.builders.data.rawData({ data: structure.text, label: structure.name })
      const trajectory = await plugin.builders.structure.parseTrajectory(data, structure.format)
      // Build the representations in the activation colours from the start when the colouring is known.
      const initial = colouringRef.current
      if (initial) registerActivationColouring(initial.dataId, initial.colouring)
      await buildStructure(plugin, trajectory, initial?.dataId ?? null)
      themedRef.current = initial?.dataId ?? null
      // Crystal waters only clutter an activation view.
      const waters = plugin.managers.structure.hierarchy.current.structures
        .flatMap(s => s.components)
        .filter(c => c.key?.includes('water'))
      if (waters.length) await plugin.managers.structure.hierarchy.remove(waters)
      // Frame the whole structure (every chain of a complex), now that the waters are gone.
      plugin.managers.camera.reset(undefined, 0)
      if (!live) return
      setLoadedKey(structure.key)
      setStatus({ kind: 'ready' })
    }
    load().catch((e: unknown) => {
      if (live)
        setStatus({
          kind: 'error',
          message: `Could not read ${structure?.name ?? 'the structure'}: ${e instanceof Error ? e.message : String(e)}`
        })
    })
    return () => {
      live = false
    }
  }, [plugin, structure])

  // Apply the colouring.
  useEffect(() => {
    if (!plugin || !loadedKey) return
    let live = true
    const apply = async (): Promise<void> => {
      const structures = plugin.managers.structure.hierarchy.current.structures
      const wanted = colouring?.dataId ?? null
      if (themedRef.current !== wanted) {
        if (colouring) registerActivationColouring(colouring.dataId, colouring.colouring)
        for (const s of structures) {
          await plugin.managers.structure.component.updateRepresentationsTheme(s.components, (_c, r) => {
            // The activation theme colours every group: residues by activation, ligands a quiet slate.
            if (colouring)
              return { color: ACTIVATION_THEME_NAME as never, colorParams: { dataId: colouring.dataId } as never }
            const type = r.cell.transform.params?.type?.name
            const isPolymer =
              type === 'cartoon' || type === 'putty' || type === 'gaussian-surface' || type === 'molecular-surface'
            return { color: (isPolymer ? 'chain-id' : 'element-symbol') as never }
          })
        }
        themedRef.current = wanted
      }
      if (!live) return
      const mine = colouring && themeRecord.dataId === colouring.dataId
      const coloured = mine ? themeRecord.colouredKeys.size : 0
      const firing = mine ? themeRecord.firingKeys.size : 0
      setApplied(colouring ? { dataId: colouring.dataId, coloured, firing } : null)
      if (colouring)
        appliedRef.current?.({ dataId: colouring.dataId, colouredResidues: coloured, firingResidues: firing })
    }
    apply().catch(
      (e: unknown) =>
        live && setStatus({ kind: 'error', message: `Colouring failed: ${e instanceof Error ? e.message : String(e)}` })
    )
    return () => {
      live = false
    }
  }, [plugin, loadedKey, colouring])

  // Highlight a residue from outside.
  useEffect(() => {
    if (!plugin || !loadedKey) return
    const highlights = plugin.managers.interactivity.lociHighlights
    if (!highlight) {
      highlights.clearHighlights()
      return
    }
    const data = plugin.managers.structure.hierarchy.current.structures[0]?.cell.obj?.data
    if (!data) return
    const selection = Script.getStructureSelection(
      Q =>
        Q.struct.generator.atomGroups({
          'chain-test': Q.core.rel.eq([Q.struct.atomProperty.macromolecular.auth_asym_id(), highlight.chainId]),
          'residue-test': Q.core.logic.and([
            Q.core.rel.eq([Q.struct.atomProperty.macromolecular.auth_seq_id(), highlight.seqNumber]),
            Q.core.rel.eq([Q.struct.atomProperty.macromolecular.pdbx_PDB_ins_code(), highlight.insCode])
          ])
        }),
      data
    )
    highlights.highlightOnly({ loci: StructureSelection.toLociWithSourceUnits(selection) })
  }, [plugin, loadedKey, highlight])

  useImperativeHandle(
    ref,
    () => ({
      async screenshot() {
        const canvas3d = plugin?.canvas3d
        if (!plugin || !canvas3d) throw new Error('The 3D view is not ready')
        // No hover highlight or selection in the picture: clear them and wait for the next frame drawn.
        plugin.managers.interactivity.lociHighlights.clearHighlights()
        plugin.managers.interactivity.lociSelects.deselectAll()
        await nextDraw(canvas3d)
        // The canvas as drawn (Mol* keeps the drawing buffer): its full size, no cropping, no extra render passes.
        return (canvas3d.webgl.gl.canvas as HTMLCanvasElement).toDataURL('image/png')
      }
    }),
    [plugin]
  )

  const visible =
    status.kind === 'ready' &&
    !!structure &&
    loadedKey === structure.key &&
    (colouring ? applied?.dataId === colouring.dataId : !awaitColouring)
  const colouringNow = status.kind === 'ready' && !!structure && !visible

  return (
    <div
      className="structure-viewer"
      style={height ? { height } : undefined}
      data-testid="structure-viewer"
      data-status={status.kind}
      data-loaded={loadedKey ?? ''}
      data-theme={applied ? ACTIVATION_THEME_NAME : ''}
      data-theme-data-id={applied?.dataId ?? ''}
      data-theme-coloured-residues={applied?.coloured ?? 0}
      data-theme-firing-residues={applied?.firing ?? 0}
      data-visible={visible ? 'true' : 'false'}
    >
      <div ref={hostRef} style={{ position: 'absolute', inset: 0, visibility: visible ? 'visible' : 'hidden' }} />
      {status.kind === 'error' && <div className="structure-status error">{status.message}</div>}
      {status.kind === 'starting' && <div className="structure-status">Starting the 3D view…</div>}
      {status.kind === 'loading' && <div className="structure-status">Loading structure…</div>}
      {colouringNow && <div className="structure-status">Colouring by activation…</div>}
      {status.kind === 'ready' && !structure && <div className="structure-status">No structure loaded</div>}
    </div>
  )
}

/** The WebGL renderer's name ("ANGLE (NVIDIA …)", "SwiftShader …"), or '' when unknown. */
function webglRenderer(p: PluginContext): string {
  const gl = p.canvas3d?.webgl.gl
  if (!gl) return ''
  const info = gl.getExtension('WEBGL_debug_renderer_info')
  return String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '')
}

/**
 * Builds the model, structure and Mol*’s default representations (polymer cartoon, ligands, …) of a parsed
 * trajectory, in the activation theme when `dataId` is given.
 */
async function buildStructure(
  plugin: PluginContext,
  trajectory: StateObjectRef<PluginStateObject.Molecule.Trajectory>,
  dataId: string | null
): Promise<void> {
  await plugin.builders.structure.hierarchy.applyPreset(trajectory, 'default', {
    showUnitcell: false,
    representationPresetParams: dataId
      ? { theme: { globalName: ACTIVATION_THEME_NAME as never, globalColorParams: { dataId } } }
      : undefined
  })
}

/** Resolves after the canvas has drawn a new frame (or after 2 s, when nothing asks for one). */
function nextDraw(canvas3d: NonNullable<PluginContext['canvas3d']>): Promise<void> {
  return new Promise(resolve => {
    let done = false
    let first = true
    const finish = (): void => {
      if (done) return
      done = true
      sub.unsubscribe()
      clearTimeout(timer)
      resolve()
    }
    const sub = canvas3d.didDraw.subscribe(() => {
      // didDraw is a BehaviorSubject: its first value is the last frame's.
      if (first) first = false
      else finish()
    })
    const timer = setTimeout(finish, 2000)
    canvas3d.requestDraw()
  })
}
