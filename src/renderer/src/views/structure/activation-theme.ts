/**
 * The Mol* colour theme "plm-activation": colours each residue by the selected feature's activation on the
 * aligned protein residue. The per-residue colours are computed outside Mol* (lib/colour-scale, through the
 * alignment in src/shared/chain-mapping.ts) and registered here under a data id; the theme's only parameter is that id,
 * so setting a new id makes Mol* rebuild the colours.
 *
 * Every group gets its colour from the theme, so a structure can be built in these colours from the start: the
 * chosen chain's residues by activation (or "not firing"), other chains and residues outside the sequence a pale
 * "no data" grey, ligands a quiet slate (lib/colour-scale owns the colours and their contrast).
 *
 * The theme records which residues it actually coloured (`themeRecord`), so the UI and the tests can check
 * that Mol* really applied it.
 */
import { Bond, StructureElement, StructureProperties } from 'molstar/lib/mol-model/structure'
import type { Location } from 'molstar/lib/mol-model/location'
import type { ColorTheme } from 'molstar/lib/mol-theme/color'
import { ColorThemeCategory } from 'molstar/lib/mol-theme/color/categories'
import type { ThemeDataContext } from 'molstar/lib/mol-theme/theme'
import { Color } from 'molstar/lib/mol-util/color'
import { ParamDefinition as PD } from 'molstar/lib/mol-util/param-definition'
import { ScaleLegend } from 'molstar/lib/mol-util/legend'
import type { ChainMatch } from '@shared/chain-mapping'
import { residueKey } from '@shared/chain-mapping'
import { HIGH_RGB, LIGAND_RGB, LOW_RGB, NO_DATA_RGB, rgbToInt, type ActivationScale } from '@renderer/lib/colour-scale'
import type { StructureChain } from '@shared/structure-reader'

export const ACTIVATION_THEME_NAME = 'plm-activation'

export interface ActivationColouring {
  /** Residue key ("A:42", "A:42B") → 0xRRGGBB. */
  colours: Map<string, number>
  /** Residue keys whose colour shows the feature firing (activation > 0). */
  firing: Set<string>
  /** Colour of polymer residues not in `colours` (other chains). */
  otherColour: number
  /** Colour of everything that is not a polymer (ligands, ions, waters). */
  ligandColour: number
  /** Legend ends. */
  minColour: number
  maxColour: number
  max: number
  label: string
}

const registry = new Map<string, ActivationColouring>()

/** What the theme did with the last colouring it was asked for: residue keys coloured from the data. */
export const themeRecord = { dataId: '', colouredKeys: new Set<string>(), firingKeys: new Set<string>(), calls: 0 }

export function registerActivationColouring(dataId: string, colouring: ActivationColouring): void {
  registry.set(dataId, colouring)
  // Keep a handful of colourings (undo/redo of Mol* may still refer to recent ones).
  while (registry.size > 8) registry.delete(registry.keys().next().value as string)
}

const Params = { dataId: PD.Text('') }
type Params = typeof Params

function ActivationColorTheme(_ctx: ThemeDataContext, props: PD.Values<Params>): ColorTheme<Params> {
  const data = registry.get(props.dataId)
  const fallback = Color(data?.otherColour ?? 0xbbbbbb)
  const elementLoc = StructureElement.Location.create()
  if (themeRecord.dataId !== props.dataId) {
    themeRecord.dataId = props.dataId
    themeRecord.colouredKeys = new Set()
    themeRecord.firingKeys = new Set()
    themeRecord.calls = 0
  }
  const ligand = Color(data?.ligandColour ?? 0x8796a8)
  const colourOf = (loc: StructureElement.Location): Color => {
    if (!data) return fallback
    if (StructureProperties.entity.type(loc) !== 'polymer') return ligand
    const chain = StructureProperties.chain.auth_asym_id(loc)
    const seq = StructureProperties.residue.auth_seq_id(loc)
    const ins = StructureProperties.residue.pdbx_PDB_ins_code(loc)
    const key = residueKey(chain, seq, ins)
    const c = data.colours.get(key)
    themeRecord.calls++
    if (c === undefined) return fallback
    themeRecord.colouredKeys.add(key)
    if (data.firing.has(key)) themeRecord.firingKeys.add(key)
    return Color(c)
  }
  const color = (location: Location): Color => {
    if (StructureElement.Location.is(location)) return colourOf(location)
    if (Bond.isLocation(location)) {
      StructureElement.Location.set(
        elementLoc,
        location.aStructure,
        location.aUnit,
        location.aUnit.elements[location.aIndex]
      )
      return colourOf(elementLoc)
    }
    return fallback
  }
  return {
    factory: ActivationColorTheme,
    granularity: 'group',
    color,
    props,
    description: 'Residues coloured by a sparse-autoencoder feature’s activation.',
    legend: data
      ? ScaleLegend(`0`, `${Number(data.max.toPrecision(3))}`, [Color(data.minColour), Color(data.maxColour)])
      : undefined
  }
}

/**
 * The colouring of a chain matched to a protein sequence: each chain residue gets the colour of its aligned
 * sequence residue's activation (`activations` null: the chain is shown as not firing), a residue without a
 * sequence residue the no-data grey.
 */
export function chainColouring(
  chain: StructureChain,
  match: ChainMatch,
  activations: ArrayLike<number> | null,
  scale: ActivationScale,
  label: string
): ActivationColouring {
  const colours = new Map<string, number>()
  const firing = new Set<string>()
  chain.residues.forEach((r, k) => {
    const q = match.alignment.targetToQuery[k]
    const value = q < 0 ? null : activations ? (activations[q] ?? 0) : 0
    const key = residueKey(chain.chainId, r.seqNumber, r.insCode)
    if (value !== null && value > 0) firing.add(key)
    colours.set(key, rgbToInt(scale.rgb(value)))
  })
  return {
    colours,
    firing,
    otherColour: rgbToInt(NO_DATA_RGB),
    ligandColour: rgbToInt(LIGAND_RGB),
    minColour: rgbToInt(LOW_RGB),
    maxColour: rgbToInt(HIGH_RGB),
    max: scale.max,
    label
  }
}

export const ActivationColorThemeProvider: ColorTheme.Provider<Params, typeof ACTIVATION_THEME_NAME> = {
  name: ACTIVATION_THEME_NAME,
  label: 'SAE feature activation',
  category: ColorThemeCategory.Misc,
  factory: ActivationColorTheme,
  getParams: () => Params,
  defaultValues: PD.getDefaultValues(Params),
  isApplicable: (ctx: ThemeDataContext) => !!ctx.structure
}
