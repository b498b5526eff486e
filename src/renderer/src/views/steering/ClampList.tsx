/** The clamps of the steering panel: per feature a mode, a slider (with its value) and an optional residue range. */
import { CLAMP_MODES, type ClampMode } from '@shared/steering-types'
import { formatNumber } from '@renderer/components/format'
import { sliderBounds, withMode, type ClampRow } from './steering-state'

export function ClampList({
  clamps,
  onChange,
  onRemove,
  onOpenFeature
}: {
  clamps: ClampRow[]
  onChange: (index: number, clamp: ClampRow) => void
  onRemove: (index: number) => void
  onOpenFeature: (feature: number) => void
}) {
  return (
    <>
      {clamps.length === 0 && (
        <p className="muted">
          No feature clamped: add one (search by id, label or concept) or open Steering from a feature's page.
        </p>
      )}
      {clamps.map((c, i) => (
        <ClampEditor
          key={c.feature}
          clamp={c}
          onChange={next => onChange(i, next)}
          onRemove={() => onRemove(i)}
          onOpen={() => onOpenFeature(c.feature)}
        />
      ))}
    </>
  )
}

/** A residue position typed by the user: a whole number from 1. */
function PositionInput({ value, onChange }: { value: number; onChange: (position: number) => void }) {
  return (
    <input
      type="number"
      className="steer-pos"
      min={1}
      value={value}
      onChange={e => onChange(Math.max(1, Math.round(Number(e.target.value) || 1)))}
    />
  )
}

function ClampEditor({
  clamp,
  onChange,
  onRemove,
  onOpen
}: {
  clamp: ClampRow
  onChange: (c: ClampRow) => void
  onRemove: () => void
  onOpen: () => void
}) {
  const b = sliderBounds(clamp)
  const { range } = clamp
  return (
    <div className="steer-clamp" data-testid="steer-clamp" data-feature={clamp.feature}>
      <div className="steer-clamp-head">
        <button className="link" onClick={onOpen}>
          f{clamp.feature}
        </button>{' '}
        <span className="muted">{clamp.label}</span>{' '}
        <span className="muted">{clamp.max > 0 ? `max ${formatNumber(clamp.max)}` : 'max unknown'}</span>
        <span className="spacer" />
        <select value={clamp.mode} onChange={e => onChange(withMode(clamp, e.target.value as ClampMode))}>
          {CLAMP_MODES.map(m => (
            <option key={m} value={m} disabled={m === 'multiple-of-max' && !(clamp.max > 0)}>
              {m === 'absolute' ? 'set to' : m === 'multiple-of-max' ? '× max' : 'add'}
            </option>
          ))}
        </select>
        <button className="btn-small" onClick={onRemove} aria-label={`remove feature ${clamp.feature}`}>
          ✕
        </button>
      </div>
      <div className="steer-clamp-body">
        <input
          type="range"
          min={b.min}
          max={b.max}
          step={b.step}
          value={clamp.value}
          onChange={e => onChange({ ...clamp, value: Number(e.target.value) })}
          aria-label={`value of feature ${clamp.feature}`}
          data-testid="steer-slider"
        />
        <input
          type="number"
          className="steer-value"
          value={Number(clamp.value.toFixed(4))}
          step={b.step}
          onChange={e =>
            Number.isFinite(Number(e.target.value)) && onChange({ ...clamp, value: Number(e.target.value) })
          }
        />
        <label className="muted">
          <input
            type="checkbox"
            checked={range !== null}
            onChange={e => onChange({ ...clamp, range: e.target.checked ? { start: 1, end: 10 } : null })}
          />{' '}
          residues
        </label>
        {range && (
          <>
            <PositionInput value={range.start} onChange={start => onChange({ ...clamp, range: { ...range, start } })} />
            –
            <PositionInput value={range.end} onChange={end => onChange({ ...clamp, range: { ...range, end } })} />
          </>
        )}
      </div>
    </div>
  )
}
