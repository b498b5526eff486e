/**
 * `plm-sae steer` through the real command parser (in process): FASTA with provenance and scores in the
 * headers, CSV and JSON beside it, the same seed giving the same file, and readable errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { referenceConfigFor, writeHfCheckpoint, type Esm2Weights } from './fixtures/esm2-checkpoint'
import { referenceForward } from './reference/esm2-reference'
import { referenceForwardFrom, referenceSteer } from './reference/steer-reference'
import { relativeError } from './helpers/compare'
import { openSafetensors } from '../src/main/engine/formats/safetensors'
import { randomProtein } from './helpers/compare'
import { tempDir } from './helpers/tmp'
import { writePreprintSaeDir, type SaeFixture } from './steer-helpers'
import { runCli } from './helpers/cli'
import { parseClamp } from '../src/main/cli/commands/steer'
import type { SteeringRunRecord } from '../src/shared/steering-types'
import { tokenize } from '../src/main/engine/esm/alphabet'

const tmp = tempDir('steer-cli')
const model = join(tmp.dir, 'model')
const sae = join(tmp.dir, 'sae')
const cache = join(tmp.dir, 'cache')
const start = randomProtein(45, 3)

let weights: Esm2Weights
let saeFixture: SaeFixture

const steer = (args: string[]) =>
  runCli(['steer', '--model', model, '--sae', sae, '--cache-dir', cache, '--device', 'cpu', '--threads', '2', ...args])

describe('plm-sae steer', () => {
  beforeAll(() => {
    weights = writeHfCheckpoint(model, 'tiny', 5, { omitTiedDecoder: true })
    saeFixture = writePreprintSaeDir(sae, 32, 64, 1, 17)
  })
  afterAll(() => tmp.cleanup())

  it('parses clamp arguments', () => {
    expect(parseClamp('12=5', { mode: 'absolute' })).toEqual({ feature: 12, mode: 'absolute', value: 5 })
    expect(parseClamp('12=1.5x', { mode: 'absolute' })).toEqual({ feature: 12, mode: 'multiple-of-max', value: 1.5 })
    expect(parseClamp('7+=-2@3-9', { mode: 'absolute' })).toEqual({
      feature: 7,
      mode: 'add-to-natural',
      value: -2,
      range: { start: 3, end: 9 }
    })
    expect(parseClamp('7=2', { mode: 'add-to-natural', range: { start: 1, end: 4 } })).toEqual({
      feature: 7,
      mode: 'add-to-natural',
      value: 2,
      range: { start: 1, end: 4 }
    })
    expect(() => parseClamp('x=2', { mode: 'absolute' })).toThrow(/write FEATURE=VALUE/)
  })

  it('writes FASTA, CSV and JSON; the same seed gives the same sequences', async () => {
    const out = join(tmp.dir, 'run.fasta')
    const args = [
      '--sequence',
      start,
      '--id',
      'P1',
      '--clamp',
      '3=4',
      '--clamp',
      '10+=1@5-20',
      '--clamp',
      '20=2x',
      '--max',
      '20=3',
      '--mode',
      'resample',
      '--n',
      '3',
      '--seed',
      '9',
      '--rounds',
      '2',
      '--temperature',
      '0.8',
      '--motif',
      'C-x(2)-C',
      '--out'
    ]
    const r = await steer([...args, out, '-q'])
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    const fasta = readFileSync(out, 'utf8')
    const headers = fasta.split('\n').filter(l => l.startsWith('>'))
    expect(headers).toHaveLength(3)
    expect(headers[0]).toMatch(
      / model=model .* sae=sae .* layer=2 clamps=3:absolute:4,10:add-to-natural:1@5-20,20:multiple-of-max:2 mode=resample seed=9 n=3 temperature=0.8 rounds=2 mask_fraction=0.15 parent=P1 identity=/
    )
    expect(headers[0]).toMatch(/ pll=-\d/)
    expect(headers[0]).toMatch(/ f3=[\d.]+ f10=[\d.]+ f20=[\d.]+ motif=C-x\(2\)-C motif_hits=\d/)
    const json = JSON.parse(readFileSync(join(tmp.dir, 'run.json'), 'utf8')) as SteeringRunRecord
    expect(json.resolvedValues).toEqual([4, 1, 6])
    expect(json.sequences).toHaveLength(3)
    expect(json.provenance.layer).toBe(2)
    const csv = readFileSync(join(tmp.dir, 'run.csv'), 'utf8').trim().split('\n')
    expect(csv).toHaveLength(5)
    const out2 = join(tmp.dir, 'again.fasta')
    expect((await steer([...args, out2, '-q'])).code).toBe(0)
    const seqs = (f: string) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .filter(l => !l.startsWith('>'))
    expect(seqs(out2)).toEqual(seqs(out))
  })

  it('de novo with --length', async () => {
    const out = join(tmp.dir, 'denovo.fasta')
    const r = await steer([
      '--length',
      '25',
      '--mode',
      'denovo',
      '--clamp',
      '3=4',
      '--n',
      '2',
      '--rounds',
      '5',
      '--no-pll',
      '--out',
      out,
      '-q'
    ])
    expect(r.code).toBe(0)
    const seqs = readFileSync(out, 'utf8')
      .split('\n')
      .filter(l => l && !l.startsWith('>'))
    expect(seqs.map(q => q.length)).toEqual([25, 25])
    expect(readFileSync(out, 'utf8')).not.toContain('pll=')
  })

  it('explains bad requests', async () => {
    const out = join(tmp.dir, 'bad.fasta')
    let r = await steer(['--sequence', start, '--clamp', '64=1', '--out', out])
    expect(r.code).toBe(1)
    expect(r.err).toMatch(/clamp 1 \(feature 64\): feature 64 does not exist: the SAE "sae" has features 0 to 63/)
    r = await steer(['--sequence', start, '--clamp', '4=1@40-50', '--out', out])
    expect(r.err).toMatch(/residue range 40-50 is outside the sequence, which has residues 1-45/)
    r = await steer(['--sequence', start, '--clamp', '4=1x', '--out', out])
    expect(r.err).toMatch(/needs the feature's max activation in the project/)
    r = await steer(['--mode', 'resample', '--clamp', '4=1', '--out', out])
    expect(r.err).toMatch(/--mode resample needs a starting sequence/)
    r = await steer(['--sequence', start, '--clamp', '4=abc', '--out', out])
    expect(r.err).toMatch(/write FEATURE=VALUE/)
    r = await steer(['--sequence', start, '--clamp', '4=1x', '--db', join(tmp.dir, 'none.sqlite'), '--out', out])
    expect(r.err).toMatch(/--db .*none.sqlite: no such file/)
  })

  it('infer --clamp writes the steered logits (float64 reference), hidden states unsteered', async () => {
    const fasta = join(tmp.dir, 'in.fasta')
    const seqs = [randomProtein(30, 8), randomProtein(18, 9)]
    writeFileSync(fasta, `>a\n${seqs[0]}\n>b\n${seqs[1]}\n`)
    const out = join(tmp.dir, 'steered.safetensors')
    const r = await runCli([
      'infer',
      '--model',
      model,
      '--sae',
      sae,
      '--fasta',
      fasta,
      '--out',
      out,
      '--layers',
      '2',
      '--clamp',
      '3=4',
      '--clamp',
      '40=2.5',
      '--cache-dir',
      cache,
      '--device',
      'cpu',
      '-q'
    ])
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    const st = openSafetensors(out)
    try {
      seqs.forEach((q, i) => {
        const id = i === 0 ? 'a' : 'b'
        const tokens = Array.from(tokenize(q, id))
        const T = tokens.length
        const ref = referenceForward(weights, referenceConfigFor('tiny'), tokens)
        const clamps = [3, 40].map((feature, k) => ({
          feature,
          op: 'set' as const,
          value: k === 0 ? 4 : 2.5,
          rowStart: 1,
          rowEnd: T - 1
        }))
        const steeredLogits = referenceForwardFrom(
          weights,
          referenceConfigFor('tiny'),
          referenceSteer(saeFixture.tensors, ref.hidden[2], T, 32, clamps),
          T,
          2
        )
        expect(relativeError(st.tensors.get(`${id}.logits`)!.readFloat32(), steeredLogits)).toBeLessThan(1e-4)
        expect(relativeError(st.tensors.get(`${id}.hidden.2`)!.readFloat32(), ref.hidden[2])).toBeLessThan(1e-4)
      })
    } finally {
      st.close()
    }
    const bad = await runCli([
      'infer',
      '--model',
      model,
      '--fasta',
      fasta,
      '--out',
      join(tmp.dir, 'x.safetensors'),
      '--clamp',
      '3=4',
      '--cache-dir',
      cache,
      '--device',
      'cpu',
      '-q'
    ])
    expect(bad.code).toBe(1)
    expect(bad.err).toMatch(/--clamp needs --sae/)
    const bad2 = await runCli([
      'infer',
      '--model',
      model,
      '--sae',
      sae,
      '--fasta',
      fasta,
      '--out',
      join(tmp.dir, 'y.safetensors'),
      '--clamp',
      '3+=4',
      '--cache-dir',
      cache,
      '--device',
      'cpu',
      '-q'
    ])
    expect(bad2.err).toMatch(/infer takes FEATURE=VALUE only/)
  })
})
