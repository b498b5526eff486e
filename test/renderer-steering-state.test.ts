/** The steering panel's reducer and request rules (src/renderer/src/views/steering/steering-state.ts). */
import { describe, expect, it } from 'vitest'
import {
  INITIAL_STEERING_STATE,
  canGenerate,
  newClamp,
  sliderBounds,
  steeringReducer,
  steeringRequest,
  withMode,
  type SteeringAction,
  type SteeringState
} from '../src/renderer/src/views/steering/steering-state'

const run = (actions: SteeringAction[], from: SteeringState = INITIAL_STEERING_STATE): SteeringState =>
  actions.reduce(steeringReducer, from)

describe('steering panel state', () => {
  it('starts in edit mode at argmax, one sequence, with nothing to generate from', () => {
    const s = INITIAL_STEERING_STATE
    expect(s.settings).toMatchObject({ mode: 'edit', temperature: 0, n: 1, length: 100 })
    expect(canGenerate(s)).toBe(false)
    expect(canGenerate(run([{ type: 'set-mode', mode: 'denovo' }]))).toBe(true)
  })

  it('clamps a feature once, at its max (5 when unknown), and edits or removes it by position', () => {
    const s = run([
      { type: 'add-clamp', clamp: newClamp(7, 'zinc finger', 2.5) },
      { type: 'add-clamp', clamp: newClamp(7, 'zinc finger', 2.5) },
      { type: 'add-clamp', clamp: newClamp(9, '', 0) }
    ])
    expect(s.clamps.map(c => [c.feature, c.mode, c.value])).toEqual([
      [7, 'absolute', 2.5],
      [9, 'absolute', 5]
    ])
    const changed = run([{ type: 'change-clamp', index: 1, clamp: { ...s.clamps[1], value: 1.25 } }], s)
    expect(changed.clamps[1].value).toBe(1.25)
    expect(changed.clamps[0]).toBe(s.clamps[0])
    expect(run([{ type: 'remove-clamp', index: 0 }], s).clamps.map(c => c.feature)).toEqual([9])
  })

  it('gives each clamp mode its neutral value and slider range', () => {
    const c = newClamp(3, '', 4)
    expect(withMode(c, 'multiple-of-max').value).toBe(1)
    expect(withMode(c, 'add-to-natural').value).toBe(0)
    expect(withMode({ ...c, max: 0 }, 'absolute').value).toBe(5)
    expect(sliderBounds(withMode(c, 'multiple-of-max'))).toEqual({ min: 0, max: 5, step: 0.05 })
    expect(sliderBounds(withMode(c, 'add-to-natural'))).toEqual({ min: -8, max: 8, step: 0.04 })
    expect(sliderBounds({ ...c, max: 0 })).toEqual({ min: 0, max: 30, step: 0.1 })
  })

  it('brings each mode its sampling defaults and keeps the other settings', () => {
    const s = run([
      { type: 'set-settings', settings: { seed: 42 } },
      { type: 'set-mode', mode: 'resample' }
    ])
    expect(s.settings).toMatchObject({ mode: 'resample', temperature: 1, n: 10, seed: 42 })
    expect(run([{ type: 'set-mode', mode: 'edit' }], s).settings).toMatchObject({ temperature: 0, n: 1, seed: 42 })
  })

  it('asks for the start sequence except de novo, the length only de novo, and a trimmed motif', () => {
    const s = run([
      { type: 'add-clamp', clamp: { ...newClamp(7, '', 2), range: { start: 2, end: 5 } } },
      { type: 'set-start', start: { id: 'P69905', sequence: 'MVLS', accession: 'P69905' } },
      { type: 'set-motif', motif: '  C-x(2)-C ' },
      { type: 'set-pll', pll: true }
    ])
    const edit = steeringRequest('p1', s)
    expect(edit).toMatchObject({
      projectId: 'p1',
      clamps: [{ feature: 7, mode: 'absolute', value: 2, range: { start: 2, end: 5 } }],
      pll: true,
      motif: 'C-x(2)-C',
      start: { id: 'P69905', sequence: 'MVLS' }
    })
    expect(edit.settings.length).toBeUndefined()
    expect(canGenerate(s)).toBe(true)
    const denovo = steeringRequest(
      'p1',
      run(
        [
          { type: 'set-mode', mode: 'denovo' },
          { type: 'set-motif', motif: ' ' }
        ],
        s
      )
    )
    expect(denovo.settings.length).toBe(100)
    expect('start' in denovo).toBe(false)
    expect('motif' in denovo).toBe(false)
  })

  it('holds the job until it ends, and generation waits for it', () => {
    const s = run([
      { type: 'set-mode', mode: 'denovo' },
      { type: 'job-started', jobId: 'j1', runId: 'r1' }
    ])
    expect(s.pending).toEqual({ jobId: 'j1', runId: 'r1' })
    expect(canGenerate(s)).toBe(false)
    expect(run([{ type: 'job-ended' }], s).pending).toBeNull()
  })
})
