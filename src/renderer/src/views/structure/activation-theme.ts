/**
 * The Mol* colour theme "plm-activation": colours each residue by the selected feature's activation on the
 * aligned protein residue. The per-residue colours are computed outside Mol* (lib/colour-scale, through the
 * alignment in lib/chain-mapping) and registered here under a data id; the theme's only parameter is that id,
 * so setting a new id makes Mol* rebuild the colours.
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
import { residueKey } from '@renderer/lib/chain-mapping'

export const ACTIVATION_THEME_NAME = 'plm-activation'

export interface ActivationColouring {
  /** Residue key ("A:42", "A:42B") → 0xRRGGBB. */
  colours: Map<string, number>
  /** Residue keys whose colour shows the feature firing (activation > 0). */
  firing: Set<string>
  /** Colour of residues not in `colours` (other chains, ligands). */
  otherColour: number
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
  const colourOf = (loc: StructureElement.Location): Color => {
    if (!data) return fallback
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

export const ActivationColorThemeProvider: ColorTheme.Provider<Params, typeof ACTIVATION_THEME_NAME> = {
  name: ACTIVATION_THEME_NAME,
  label: 'SAE feature activation',
  category: ColorThemeCategory.Misc,
  factory: ActivationColorTheme,
  getParams: () => Params,
  defaultValues: PD.getDefaultValues(Params),
  isApplicable: (ctx: ThemeDataContext) => !!ctx.structure
}
