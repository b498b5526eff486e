import { describe, expect, it } from 'vitest'
import { planWindows } from '../src/main/engine/esm/windows'

describe('window plan for long sequences', () => {
  it('uses one window when the sequence fits', () => {
    expect(planWindows(1022, 1022)).toEqual([{ start: 0, end: 1022, takeFrom: 0, takeTo: 1022 }])
  })

  it.each([1023, 1500, 2044, 3000, 10007])(
    'covers every residue of %i exactly once, from a window that contains it, nearest centre first',
    L => {
      const W = 1022
      const plan = planWindows(L, W)
      expect(plan[0].start).toBe(0)
      expect(plan[plan.length - 1].end).toBe(L)
      let next = 0
      for (const w of plan) {
        expect(w.end - w.start).toBe(W)
        expect(w.takeFrom).toBe(next)
        expect(w.takeFrom).toBeGreaterThanOrEqual(w.start)
        expect(w.takeTo).toBeLessThanOrEqual(w.end)
        next = w.takeTo
      }
      expect(next).toBe(L)
      for (let r = 0; r < L; r += 37) {
        const dist = plan.map(w => Math.abs(r - (w.start + W / 2)))
        const nearest = dist.indexOf(Math.min(...dist))
        const owner = plan.findIndex(w => r >= w.takeFrom && r < w.takeTo)
        expect(owner).toBe(nearest)
      }
      // neighbours overlap by at least half a window
      for (let i = 1; i < plan.length; i++) expect(plan[i - 1].end - plan[i].start).toBeGreaterThanOrEqual(W / 2)
    }
  )
})
