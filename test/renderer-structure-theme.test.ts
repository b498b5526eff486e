/**
 * The 3D view's colours as Mol* gets them: the `plm-activation` theme is built on the demo's 2HHB (haemoglobin,
 * chains A–D and haem groups) parsed by Mol* itself, coloured with chain A's own sequence, and asked for the colour
 * of every atom. The contrast between what must be told apart (background, other chains, the chain's residues
 * where the feature does not fire, its weakest firing residue) is computed from those colours with the WCAG 2
 * contrast ratio.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parsePDB } from 'molstar/lib/mol-io/reader/pdb/parser'
import { trajectoryFromPDB } from 'molstar/lib/mol-model-formats/structure/pdb'
import { Structure, StructureElement, StructureProperties } from 'molstar/lib/mol-model/structure'
import { Task } from 'molstar/lib/mol-task'
import { chooseChain } from '../src/shared/chain-mapping'
import {
  activationScale,
  BACKGROUND_RGB,
  contrastRatio,
  LIGAND_RGB,
  NO_DATA_RGB,
  readableTextOn,
  relativeLuminance,
  HIGH_RGB,
  LOW_RGB,
  ZERO_RGB,
  type Rgb
} from '../src/renderer/src/lib/colour-scale'
import { parseStructureChains } from '../src/shared/structure-reader'
import {
  ActivationColorThemeProvider,
  chainColouring,
  registerActivationColouring,
  themeRecord
} from '../src/renderer/src/views/structure/activation-theme'

const PDB = join(__dirname, '..', 'resources', 'demo', 'structures', '2hhb.pdb')

async function molstarStructure(text: string): Promise<Structure> {
  const parsed = await parsePDB(text, '2hhb').run()
  if (parsed.isError) throw new Error(parsed.message)
  const trajectory = await trajectoryFromPDB(parsed.result).run()
  return Structure.ofModel(await Task.resolveInContext(trajectory.getFrameAtIndex(0)))
}

const rgbOf = (c: number): Rgb => [(c >> 16) & 255, (c >> 8) & 255, c & 255]

describe('WCAG contrast ratio (hand-worked references)', () => {
  it('gives 21 for black on white, 1 for equal colours and 4.54 for #767676 on white', () => {
    expect(contrastRatio([0, 0, 0], [255, 255, 255])).toBeCloseTo(21, 6)
    expect(contrastRatio([10, 200, 30], [10, 200, 30])).toBe(1)
    // #767676: 118/255 = 0.46275 → ((0.46275 + 0.055) / 1.055)^2.4 = 0.18116; (1.05) / (0.23116) = 4.542
    expect(relativeLuminance([118, 118, 118])).toBeCloseTo(0.18116, 4)
    expect(contrastRatio([118, 118, 118], [255, 255, 255])).toBeCloseTo(4.542, 3)
  })
  it('writes dark text on the weakest firing colour and white text on the strongest', () => {
    expect(readableTextOn(LOW_RGB)).toBe('#1d2330')
    expect(readableTextOn(HIGH_RGB)).toBe('#ffffff')
  })
})

describe('the plm-activation theme on 2HHB', async () => {
  const text = readFileSync(PDB, 'utf8')
  const structure = await molstarStructure(text)
  const chains = parseStructureChains(text, 'pdb')
  const chainA = chains.find(c => c.chainId === 'A')!
  const sequence = chainA.sequence
  const match = chooseChain(sequence, chains).best!
  const max = 4
  // Residue 10 fires at 0.1 % of the max (the weakest visible firing), residue 20 at the max, the rest not at all.
  const activations = new Array<number>(sequence.length).fill(0)
  activations[10] = max * 0.001
  activations[20] = max
  const colouring = chainColouring(chainA, match, activations, activationScale(max), '#1')
  registerActivationColouring('test-2hhb', colouring)
  const theme = ActivationColorThemeProvider.factory({ structure }, { dataId: 'test-2hhb' })
  if (!('color' in theme)) throw new Error('the activation theme colours by location')

  // The colour the theme gives every atom, grouped by what the atom is.
  const seen = { weakest: new Set<number>(), strongest: new Set<number>(), notFiring: new Set<number>() }
  const otherChains = new Set<number>()
  const ligands = new Set<number>()
  const loc = StructureElement.Location.create(structure)
  for (const unit of structure.units) {
    for (let i = 0; i < unit.elements.length; i++) {
      StructureElement.Location.set(loc, structure, unit, unit.elements[i])
      const colour = theme.color(loc, false) as number
      const chain = StructureProperties.chain.auth_asym_id(loc)
      if (StructureProperties.entity.type(loc) !== 'polymer') ligands.add(colour)
      else if (chain !== 'A') otherChains.add(colour)
      else {
        const seq = StructureProperties.residue.auth_seq_id(loc)
        const k = chainA.residues.findIndex(r => r.seqNumber === seq)
        const q = match.alignment.targetToQuery[k]
        if (q === 10) seen.weakest.add(colour)
        else if (q === 20) seen.strongest.add(colour)
        else seen.notFiring.add(colour)
      }
    }
  }
  const only = (s: Set<number>): Rgb => {
    expect(s.size).toBe(1)
    return rgbOf([...s][0])
  }

  it('colours each class of atom with one colour, the one the scale defines', () => {
    expect(only(seen.strongest)).toEqual(HIGH_RGB)
    expect(only(seen.notFiring)).toEqual(ZERO_RGB)
    expect(only(otherChains)).toEqual(NO_DATA_RGB)
    expect(only(ligands)).toEqual(LIGAND_RGB)
    // 0.1 % of the way from LOW to HIGH: rounds to LOW's own channels.
    expect(only(seen.weakest)).toEqual(LOW_RGB)
    expect(themeRecord.dataId).toBe('test-2hhb')
    expect(themeRecord.colouredKeys.size).toBe(chainA.residues.length)
    expect(themeRecord.firingKeys.size).toBe(2)
  })

  it('keeps the classes apart by contrast: background, other chains, not firing, weakest firing', () => {
    const background = BACKGROUND_RGB
    const other = only(otherChains)
    const notFiring = only(seen.notFiring)
    const weakest = only(seen.weakest)
    // Lightest to darkest: background > other chains > not firing > weakest firing.
    const order = [background, other, notFiring, weakest].map(relativeLuminance)
    expect([...order].sort((a, b) => b - a)).toEqual(order)
    // Other chains recede but still show on the background.
    expect(contrastRatio(background, other)).toBeGreaterThanOrEqual(1.2)
    // The chosen chain stands out from the other chains, its firing residues from its quiet ones.
    expect(contrastRatio(other, notFiring)).toBeGreaterThanOrEqual(1.5)
    expect(contrastRatio(notFiring, weakest)).toBeGreaterThanOrEqual(1.5)
    expect(contrastRatio(other, weakest)).toBeGreaterThanOrEqual(2.5)
    // The weakest firing residue meets WCAG 2.1's 3:1 for graphical objects against the background.
    expect(contrastRatio(background, weakest)).toBeGreaterThanOrEqual(3)
    // And every firing colour is a hue, not a grey: red well above green and blue.
    for (const c of [weakest, only(seen.strongest)]) expect(c[0] - Math.max(c[1], c[2])).toBeGreaterThan(60)
  })
})
