/**
 * The experiment builder: name, start (project proteins by accession, pasted FASTA, or de novo length), the
 * steering generation settings, n per condition and seed, clamp sets (features, mode, value at dose 1,
 * optional residue range), the dose axis, the automatic controls, outcomes (motif, PLL method) and the success
 * criterion; optional screening (feature list, or top N by concept F1). The design is checked by the same
 * `checkExperimentDesign` as the CLI's before it is sent.
 */
import { useState } from 'react'
import { CLAMP_MODES, GENERATION_MODES, type ClampMode, type GenerationMode } from '@shared/steering-types'
import { checkExperimentDesign, PLL_METHODS, type ExperimentDesign, type PllMethod } from '@shared/experiment-types'
import { ANNOTATION_TYPES, type AnnotationType } from '@shared/store-types'
import { parsePastedRecords } from '@shared/sequence-text'
import { ErrorAlert } from '@renderer/components/error-alert'

interface SetRow {
  features: string
  mode: ClampMode
  value: number
  range: string
}

function parseFeatures(text: string): number[] {
  return text
    .split(/[\s,+]+/)
    .filter(Boolean)
    .map(t => {
      if (!/^\d+$/.test(t)) throw new Error(`"${t}" is not a feature id`)
      return Number(t)
    })
}

function parseRange(text: string): { start: number; end: number } | undefined {
  if (!text.trim()) return undefined
  const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(text)
  if (!m) throw new Error(`range "${text}": write START-END (1-based, inclusive)`)
  return { start: Number(m[1]), end: Number(m[2]) }
}

/** The starting sequences of a paste: every record (an experiment uses them all). */
function pastedSequences(text: string): { id: string; sequence: string }[] {
  const parsed = parsePastedRecords(text)
  if ('error' in parsed) throw new Error(`Starting sequences: ${parsed.error}`)
  return parsed.records.map(r => ({ id: r.name, sequence: r.sequence }))
}

export function ExperimentBuilder({
  initialFeatures,
  onStart,
  busy
}: {
  initialFeatures?: number[]
  onStart: (d: ExperimentDesign) => void
  busy: boolean
}) {
  const [name, setName] = useState(
    initialFeatures?.length ? `Steering f${initialFeatures.join(', f')}` : 'Steering experiment'
  )
  const [startKind, setStartKind] = useState<'proteins' | 'sequences' | 'denovo'>('proteins')
  const [accessions, setAccessions] = useState('')
  const [pasted, setPasted] = useState('')
  const [length, setLength] = useState(100)
  const [mode, setMode] = useState<GenerationMode>('resample')
  const [temperature, setTemperature] = useState(1)
  const [rounds, setRounds] = useState(10)
  const [maskFraction, setMaskFraction] = useState(0.15)
  const [n, setN] = useState(32)
  const [seed, setSeed] = useState(1)
  const [sets, setSets] = useState<SetRow[]>(
    initialFeatures?.length
      ? initialFeatures.map(f => ({ features: String(f), mode: 'multiple-of-max', value: 1, range: '' }))
      : [{ features: '', mode: 'multiple-of-max', value: 1, range: '' }]
  )
  const [doses, setDoses] = useState('0.5, 1, 2, 4')
  const [noClamp, setNoClamp] = useState(true)
  const [ablation, setAblation] = useState(true)
  const [randomDraws, setRandomDraws] = useState(3)
  const [motif, setMotif] = useState('')
  const [pll, setPll] = useState<PllMethod>('strided')
  const [stride, setStride] = useState(8)
  const [success, setSuccess] = useState<'activation' | 'motif'>('activation')
  const [threshold, setThreshold] = useState('')
  const [margin, setMargin] = useState(0.1)
  const [screenFeatures, setScreenFeatures] = useState('')
  const [screenConcept, setScreenConcept] = useState('')
  const [screenTop, setScreenTop] = useState(10)
  const [error, setError] = useState<string | null>(null)

  const build = (): ExperimentDesign => {
    const start: ExperimentDesign['start'] =
      startKind === 'proteins'
        ? { kind: 'proteins', accessions: accessions.split(/[\s,]+/).filter(Boolean) }
        : startKind === 'sequences'
          ? { kind: 'sequences', sequences: pastedSequences(pasted) }
          : { kind: 'denovo', length }
    const clampSets = sets
      .filter(s => s.features.trim())
      .map(s => {
        const range = parseRange(s.range)
        return {
          clamps: parseFeatures(s.features).map(f => ({
            feature: f,
            mode: s.mode,
            value: s.value,
            ...(range ? { range } : {})
          }))
        }
      })
    const screenList = screenFeatures.trim() ? parseFeatures(screenFeatures) : undefined
    const d: ExperimentDesign = {
      name,
      start,
      generation: {
        mode: startKind === 'denovo' ? 'denovo' : mode === 'denovo' ? 'resample' : mode,
        temperature,
        rounds,
        maskFraction
      },
      n,
      seed,
      clampSets,
      doses: doses
        .split(/[\s,]+/)
        .filter(Boolean)
        .map(Number),
      controls: { noClamp, ablation, randomDraws },
      pll,
      ...(pll === 'strided' ? { pllStride: stride } : {}),
      ...(motif.trim() ? { motif: motif.trim() } : {}),
      success:
        success === 'motif'
          ? { kind: 'motif' }
          : { kind: 'activation', ...(threshold.trim() ? { threshold: Number(threshold) } : {}) },
      likelihoodMargin: margin
    }
    if (screenList || screenConcept) {
      const first = sets[0]
      d.screen = {
        clamp: { mode: first?.mode ?? 'multiple-of-max', value: first?.value ?? 1 },
        ...(screenList ? { features: screenList } : {}),
        ...(screenConcept ? { concept: { type: screenConcept as AnnotationType, top: screenTop } } : {})
      }
    }
    checkExperimentDesign(d)
    return d
  }

  const submit = (): void => {
    setError(null)
    try {
      onStart(build())
    } catch (e) {
      setError((e as Error).message)
    }
  }

  const conditions = (() => {
    try {
      const k =
        sets.filter(s => s.features.trim()).length +
        (screenFeatures.trim() ? parseFeatures(screenFeatures).length : 0) +
        (screenConcept ? screenTop : 0)
      const dn = doses.split(/[\s,]+/).filter(Boolean).length
      return (noClamp ? 1 : 0) + k * (dn + (ablation ? 1 : 0) + randomDraws)
    } catch {
      return NaN
    }
  })()

  return (
    <div className="exp-builder" data-testid="experiment-builder">
      <label>
        Name <input value={name} onChange={e => setName(e.target.value)} />
      </label>
      <fieldset>
        <legend>Start</legend>
        <select value={startKind} onChange={e => setStartKind(e.target.value as typeof startKind)}>
          <option value="proteins">proteins of the project</option>
          <option value="sequences">pasted sequences (FASTA)</option>
          <option value="denovo">de novo</option>
        </select>
        {startKind === 'proteins' && (
          <input
            placeholder="accessions, e.g. P69905, P68871"
            value={accessions}
            onChange={e => setAccessions(e.target.value)}
            data-testid="exp-accessions"
          />
        )}
        {startKind === 'sequences' && (
          <textarea
            rows={3}
            value={pasted}
            onChange={e => setPasted(e.target.value)}
            placeholder=">id&#10;SEQUENCE"
          />
        )}
        {startKind === 'denovo' && (
          <label>
            length <input type="number" min={1} value={length} onChange={e => setLength(Number(e.target.value))} />
          </label>
        )}
      </fieldset>
      <fieldset>
        <legend>Generation</legend>
        {startKind !== 'denovo' && (
          <select value={mode} onChange={e => setMode(e.target.value as GenerationMode)} data-testid="exp-mode">
            {GENERATION_MODES.filter(m => m !== 'denovo').map(m => (
              <option key={m}>{m}</option>
            ))}
          </select>
        )}
        <label>
          temperature{' '}
          <input
            type="number"
            step={0.1}
            min={0}
            value={temperature}
            onChange={e => setTemperature(Number(e.target.value))}
          />
        </label>
        <label>
          rounds{' '}
          <input
            type="number"
            min={1}
            value={rounds}
            onChange={e => setRounds(Number(e.target.value))}
            data-testid="exp-rounds"
          />
        </label>
        <label>
          mask fraction{' '}
          <input
            type="number"
            step={0.05}
            min={0.01}
            max={1}
            value={maskFraction}
            data-testid="exp-mask-fraction"
            onChange={e => setMaskFraction(Number(e.target.value))}
          />
        </label>
        <label>
          n per condition{' '}
          <input type="number" min={2} value={n} onChange={e => setN(Number(e.target.value))} data-testid="exp-n" />
        </label>
        <label>
          seed <input type="number" min={0} value={seed} onChange={e => setSeed(Number(e.target.value))} />
        </label>
      </fieldset>
      <fieldset>
        <legend>Clamp sets (value at dose 1)</legend>
        {sets.map((s, i) => (
          <div key={i} className="exp-set">
            <input
              placeholder="features, e.g. 123+456"
              value={s.features}
              onChange={e => setSets(sets.map((x, k) => (k === i ? { ...x, features: e.target.value } : x)))}
              data-testid="exp-set-features"
            />
            <select
              value={s.mode}
              onChange={e => setSets(sets.map((x, k) => (k === i ? { ...x, mode: e.target.value as ClampMode } : x)))}
            >
              {CLAMP_MODES.map(m => (
                <option key={m}>{m}</option>
              ))}
            </select>
            <input
              type="number"
              step={0.1}
              value={s.value}
              onChange={e => setSets(sets.map((x, k) => (k === i ? { ...x, value: Number(e.target.value) } : x)))}
            />
            <input
              placeholder="residues A-B (all)"
              value={s.range}
              onChange={e => setSets(sets.map((x, k) => (k === i ? { ...x, range: e.target.value } : x)))}
            />
            <button
              className="btn-small"
              onClick={() => setSets(sets.filter((_, k) => k !== i))}
              aria-label="remove clamp set"
            >
              ×
            </button>
          </div>
        ))}
        <button
          className="btn-small"
          onClick={() => setSets([...sets, { features: '', mode: 'multiple-of-max', value: 1, range: '' }])}
        >
          + clamp set
        </button>
        <label>
          doses (× value) <input value={doses} onChange={e => setDoses(e.target.value)} data-testid="exp-doses" />
        </label>
      </fieldset>
      <fieldset>
        <legend>Controls</legend>
        <label>
          <input type="checkbox" checked={noClamp} onChange={e => setNoClamp(e.target.checked)} /> no clamp
        </label>
        <label>
          <input
            type="checkbox"
            checked={ablation}
            onChange={e => setAblation(e.target.checked)}
            data-testid="exp-ablation"
          />{' '}
          same features clamped to 0
        </label>
        <label>
          random features matched by firing frequency:{' '}
          <input
            type="number"
            min={0}
            value={randomDraws}
            onChange={e => setRandomDraws(Number(e.target.value))}
            data-testid="exp-random-draws"
          />{' '}
          draws
        </label>
      </fieldset>
      <fieldset>
        <legend>Outcomes and success</legend>
        <label>
          motif (PROSITE){' '}
          <input
            value={motif}
            onChange={e => setMotif(e.target.value)}
            placeholder="C-x(2,4)-C-x(3)-[LIVMFYWC]-x(8)-H-x(3,5)-H"
          />
        </label>
        <label>
          PLL{' '}
          <select value={pll} onChange={e => setPll(e.target.value as PllMethod)} data-testid="exp-pll">
            {PLL_METHODS.map(m => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </label>
        {pll === 'strided' && (
          <label>
            groups <input type="number" min={1} value={stride} onChange={e => setStride(Number(e.target.value))} />
          </label>
        )}
        <label>
          success{' '}
          <select value={success} onChange={e => setSuccess(e.target.value as 'activation' | 'motif')}>
            <option value="activation">target activation above threshold</option>
            <option value="motif">has the motif</option>
          </select>
        </label>
        {success === 'activation' && (
          <input
            placeholder="threshold (default: control's 95th percentile)"
            value={threshold}
            onChange={e => setThreshold(e.target.value)}
          />
        )}
        <label>
          likelihood margin (nats/residue){' '}
          <input type="number" step={0.05} min={0} value={margin} onChange={e => setMargin(Number(e.target.value))} />
        </label>
      </fieldset>
      <fieldset>
        <legend>Screening (optional: one clamp set per candidate, clamped like the first set)</legend>
        <input
          placeholder="candidate features, e.g. 12, 99, 1034"
          value={screenFeatures}
          onChange={e => setScreenFeatures(e.target.value)}
        />
        <label>
          or top <input type="number" min={1} value={screenTop} onChange={e => setScreenTop(Number(e.target.value))} />{' '}
          by concept F1 for{' '}
          <select value={screenConcept} onChange={e => setScreenConcept(e.target.value)}>
            <option value="">(none)</option>
            {ANNOTATION_TYPES.map(t => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
      </fieldset>
      <div className="exp-actions">
        <span className="muted">
          {Number.isFinite(conditions) ? `${conditions} conditions × ${n} = ${conditions * n} sequences` : ''}
        </span>
        <button onClick={submit} disabled={busy} data-testid="exp-start">
          Run experiment
        </button>
      </div>
      <ErrorAlert error={error} />
    </div>
  )
}
