/** The steering preview's pure helpers (renderer): probability shift, changed argmax, diverging colours. */
import { describe, expect, it } from 'vitest'
import { shiftColour, shiftMatrix } from '../src/renderer/src/views/steering/shift-heatmap'

describe('steering preview helpers', () => {
  it('computes the shift, its scale and the residues whose most likely amino acid changes', () => {
    // 2 residues × 3 "amino acids"
    const m = shiftMatrix({
      aminoAcids: 'LAG',
      residues: 2,
      unsteered: [0.5, 0.3, 0.2, 0.1, 0.6, 0.3],
      steered: [0.2, 0.7, 0.1, 0.1, 0.5, 0.4]
    })
    expect(m.delta.map(d => Number(d.toFixed(6)))).toEqual([-0.3, 0.4, -0.1, 0, -0.1, 0.1])
    expect(m.maxAbs).toBeCloseTo(0.4, 12)
    expect(m.changedArgmax).toEqual([1])
  })

  it('colours gains red, losses blue, no change white', () => {
    expect(shiftColour(0, 1)).toBe('rgb(255,255,255)')
    expect(shiftColour(1, 1)).toBe('rgb(255,40,40)')
    expect(shiftColour(-1, 1)).toBe('rgb(40,90,255)')
    expect(shiftColour(5, 1)).toBe('rgb(255,40,40)')
    expect(shiftColour(0.3, 0)).toBe('rgb(255,255,255)')
  })
})
