import { describe, expect, it } from 'vitest'
import { activationScale, hexToRgb, niceTicks, rgbToHex, rgbToInt } from '../src/renderer/src/lib/colour-scale'

describe('activationScale (orange→deep red, max clamps, zero and no-data grey)', () => {
  const scale = activationScale(4)
  it('maps the ends and the middle (hand-worked: (232+103)/2=167.5→168, (89+0)/2=44.5→45, (12+13)/2=12.5→13)', () => {
    expect(scale.hex(4)).toBe('#67000d')
    expect(scale.hex(2)).toBe('#a82d0d')
    expect(scale.hex(1e-9)).toBe('#e8590c')
    expect(scale.hex(9)).toBe('#67000d') // above max: clamped
  })
  it('gives zero and no-data residues their own greys', () => {
    expect(scale.hex(0)).toBe('#aeb3ba')
    expect(scale.hex(-1)).toBe('#aeb3ba')
    expect(scale.hex(null)).toBe('#e3e6ea')
    expect(scale.hex(Number.NaN)).toBe('#e3e6ea')
    expect(scale.position(null)).toBeNaN()
    expect(scale.position(1)).toBe(0.25)
  })
  it('falls back to max 1 for an empty or zero max', () => {
    expect(activationScale(0).max).toBe(1)
    expect(activationScale(Number.NaN).max).toBe(1)
  })
  it('gives legend ticks at round steps', () => {
    expect(scale.ticks).toEqual([0, 1, 2, 3, 4])
    expect(niceTicks(0, 3.7, 5)).toEqual([0, 1, 2, 3])
    expect(niceTicks(0, 12, 5)).toEqual([0, 5, 10])
    expect(niceTicks(0, 0.9, 4)).toEqual([0, 0.5])
    expect(niceTicks(0, 0.07, 5)).toEqual([0, 0.02, 0.04, 0.06])
    expect(niceTicks(2, 2)).toEqual([2])
  })
  it('converts colours', () => {
    expect(rgbToHex([1, 171, 255])).toBe('#01abff')
    expect(hexToRgb('#01abff')).toEqual([1, 171, 255])
    expect(rgbToInt([0x12, 0x34, 0x56])).toBe(0x123456)
    expect(() => hexToRgb('red')).toThrow(/not a #rrggbb colour/)
  })
})
