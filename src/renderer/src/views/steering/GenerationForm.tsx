/**
 * The generation settings of the steering panel (mode, number of sequences, seed, temperature, rounds, mask
 * fraction or de novo length, PROSITE motif, pseudo-log-likelihood) and the starting sequence of edit and
 * resample.
 */
import { api } from '@renderer/api'
import { GENERATION_MODES, type GenerationMode, type GenerationSettings } from '@shared/steering-types'
import { ChoiceSelect } from '@renderer/components/choice-select'
import { PastedRecordChoice } from '../protein/PastedRecordChoice'
import { ProteinPicker } from '../protein/ProteinPicker'
import type { SteeringAction, SteeringState, StartSequence } from './steering-state'

const MODE_LABELS: Record<GenerationMode, string> = {
  edit: 'edit (one pass)',
  resample: 'iterative masked resampling',
  denovo: 'de novo'
}

/** The numeric settings: label, bounds and the modes that use each (length is de novo only, with 100 as default). */
interface SettingField {
  key: 'n' | 'seed' | 'temperature' | 'rounds' | 'maskFraction' | 'length'
  label: (mode: GenerationMode) => string
  min: number
  max: number
  step: number
  shown: (mode: GenerationMode) => boolean
  testId?: string
}

const always = (): boolean => true
const SETTING_FIELDS: readonly SettingField[] = [
  { key: 'n', label: () => 'Sequences', min: 1, max: 10000, step: 1, shown: always, testId: 'steer-n' },
  { key: 'seed', label: () => 'Seed', min: 0, max: 2 ** 31, step: 1, shown: always, testId: 'steer-seed' },
  { key: 'temperature', label: () => 'Temperature (0 = argmax)', min: 0, max: 100, step: 0.1, shown: always },
  {
    key: 'rounds',
    label: m => (m === 'denovo' ? 'Unmasking steps' : 'Rounds'),
    min: 1,
    max: 10000,
    step: 1,
    shown: m => m !== 'edit'
  },
  { key: 'maskFraction', label: () => 'Mask fraction', min: 0.01, max: 1, step: 0.01, shown: m => m === 'resample' },
  {
    key: 'length',
    label: () => 'Length',
    min: 1,
    max: 1022,
    step: 1,
    shown: m => m === 'denovo',
    testId: 'steer-length'
  }
]

export function GenerationForm({
  state,
  dispatch
}: {
  state: Pick<SteeringState, 'settings' | 'motif' | 'pll'>
  dispatch: (action: SteeringAction) => void
}) {
  const { settings, motif, pll } = state
  const set = (patch: Partial<Omit<GenerationSettings, 'mode'>>): void =>
    dispatch({ type: 'set-settings', settings: patch })
  return (
    <div className="steer-form">
      <label>
        Mode{' '}
        <ChoiceSelect
          value={settings.mode}
          choices={GENERATION_MODES}
          labels={MODE_LABELS}
          onChange={mode => dispatch({ type: 'set-mode', mode })}
          testId="steer-mode"
        />
      </label>
      {SETTING_FIELDS.filter(f => f.shown(settings.mode)).map(f => (
        <NumberField
          key={f.key}
          label={f.label(settings.mode)}
          value={settings[f.key] ?? 100}
          min={f.min}
          max={f.max}
          step={f.step}
          onChange={v => set({ [f.key]: v })}
          testId={f.testId}
        />
      ))}
      <label>
        Motif (PROSITE){' '}
        <input
          type="text"
          value={motif}
          placeholder="C-x(2,4)-C-x(3)-[LIVMFYWC]-x(8)-H-x(3,5)-H"
          onChange={e => dispatch({ type: 'set-motif', motif: e.target.value })}
          data-testid="steer-motif"
        />
      </label>
      <label title="One forward per residue per sequence: slow for many or long sequences">
        <input type="checkbox" checked={pll} onChange={e => dispatch({ type: 'set-pll', pll: e.target.checked })} />{' '}
        pseudo-log-likelihood (slow)
      </label>
    </div>
  )
}

/** A number input that passes on only values within [min, max] (whole numbers when the step is 1). */
function NumberField({
  label,
  value,
  min,
  max,
  step,
  onChange,
  testId
}: {
  label: string
  value: number
  min: number
  max: number
  step: number
  onChange: (v: number) => void
  testId?: string
}) {
  return (
    <label>
      {label}{' '}
      <input
        type="number"
        value={value}
        min={min}
        max={max}
        step={step}
        data-testid={testId}
        onChange={e => {
          const v = Number(e.target.value)
          if (Number.isFinite(v) && v >= min && v <= max) onChange(step === 1 ? Math.round(v) : v)
        }}
      />
    </label>
  )
}

/** The starting sequence: a protein of the project or a pasted sequence; "change" picks another. */
export function StartSequencePicker({
  projectId,
  start,
  dispatch
}: {
  projectId: string
  start: StartSequence | null
  dispatch: (action: SteeringAction) => void
}) {
  const setStart = (s: StartSequence | null): void => dispatch({ type: 'set-start', start: s })
  return (
    <div className="steer-start">
      <div className="wb-panel-head">
        Starting sequence{' '}
        {start && (
          <span className="wb-chip">
            {start.id} · {start.sequence.length} aa
          </span>
        )}
        {start && (
          <button className="btn-small" onClick={() => setStart(null)}>
            change
          </button>
        )}
      </div>
      {start?.pasted && (
        <PastedRecordChoice
          records={start.pasted}
          shown={start.pasted.findIndex(r => r.name === start.id && r.sequence === start.sequence)}
          onChoose={r => setStart({ id: r.name, sequence: r.sequence, pasted: start.pasted })}
        />
      )}
      {!start && (
        <ProteinPicker
          projectId={projectId}
          onPick={p => {
            api.proteinDetail({ projectId, protein: p.accession }).then(
              d => setStart({ id: d.accession, sequence: d.sequence, accession: d.accession }),
              (e: Error) => dispatch({ type: 'set-error', error: e.message })
            )
          }}
          onSequence={(name, sequence, pasted) => setStart({ id: name || 'pasted', sequence, pasted })}
        />
      )}
    </div>
  )
}
