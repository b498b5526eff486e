/**
 * The `plm-sae infer` contract end to end, through the built command (`npm run build:cli`, then
 * `node bin/plm-sae.js ...` in a child process): gzipped FASTA in, a safetensors file out whose tensors
 * equal the independent reference; readable errors and a non-zero exit code on bad input; `--help` of
 * every command explains every option.
 */
import { beforeAll, afterAll, describe, expect, it } from 'vitest'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { writeHfCheckpoint, referenceConfigFor, type Esm2Shape, type Esm2Weights } from './fixtures/esm2-checkpoint'
import { referenceForward } from './reference/esm2-reference'
import { randomProtein, relativeError } from './helpers/compare'
import { tempDir } from './helpers/tmp'
import { tokenize } from '../src/main/engine/esm/alphabet'
import { buildProgram } from '../src/main/cli/plm-sae'

const ROOT = join(__dirname, '..')
const BIN = join(ROOT, 'bin', 'plm-sae.js')
const TOL = 1e-4
/** Six layers (so that --layers 4,6 exists) of a small width, to keep the test fast. */
const SHAPE: Esm2Shape = { layers: 6, hidden: 32, heads: 4, ffn: 64, vocab: 33, maxPositions: 1026 }

interface Run {
  code: number
  stdout: string
  stderr: string
}

function plmSae(args: string[]): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, PLM_SAE_DEBUG: '' }
  })
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

/** An independent safetensors parser: 8-byte LE header size, JSON header, raw data. */
function readSafetensors(path: string): {
  header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>
  metadata: Record<string, string>
  get(name: string): Float32Array
} {
  const bytes = readFileSync(path)
  const n = Number(bytes.readBigUInt64LE(0))
  const parsed = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>
  const metadata = (parsed.__metadata__ ?? {}) as Record<string, string>
  delete parsed.__metadata__
  const header = parsed as ReturnType<typeof readSafetensors>['header']
  return {
    header,
    metadata,
    get(name) {
      const e = header[name]
      const [b, end] = e.data_offsets
      const copy = Uint8Array.prototype.slice.call(bytes, 8 + n + b, 8 + n + end)
      return new Float32Array(copy.buffer)
    }
  }
}

const tmp = tempDir('cli-infer')
let weights: Esm2Weights
const model = join(tmp.dir, 'model')
const cache = join(tmp.dir, 'cache')

const RECORDS = [
  { id: 'sp|P1|FIRST', description: 'a first protein OS=Test', seq: randomProtein(45, 1) },
  { id: 'second', description: '', seq: randomProtein(17, 2).toLowerCase() },
  {
    id: 'masked',
    description: 'with masks',
    seq: randomProtein(30, 3).slice(0, 12) + '<mask>' + randomProtein(30, 4).slice(0, 15)
  },
  { id: 'tiny', description: 'one residue', seq: 'M' }
]

function fasta(records: { id: string; description: string; seq: string }[]): string {
  // sequences wrapped at 20 characters, as FASTA files often are
  return records
    .map(r => `>${r.id}${r.description ? ` ${r.description}` : ''}\n${r.seq.match(/.{1,20}/g)!.join('\n')}\n`)
    .join('')
}

beforeAll(() => {
  execFileSync('npm', ['run', 'build:cli'], { cwd: ROOT, stdio: 'pipe' })
  weights = writeHfCheckpoint(model, SHAPE, 7, { omitTiedDecoder: true })
})
afterAll(() => tmp.cleanup())

describe('plm-sae infer', () => {
  it('reads a gzipped FASTA and writes logits and the requested hidden states, equal to the reference', () => {
    const fa = join(tmp.dir, 'in.fasta.gz')
    writeFileSync(fa, gzipSync(fasta(RECORDS)))
    const out = join(tmp.dir, 'out.safetensors')
    const r = plmSae([
      'infer',
      '--model',
      model,
      '--fasta',
      fa,
      '--layers',
      '4,6',
      '--out',
      out,
      '--device',
      'cpu',
      '--threads',
      '2',
      '--cache-dir',
      cache
    ])
    expect(r.stderr).not.toMatch(/error/i)
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/4 sequences/)
    const st = readSafetensors(out)
    const names = Object.keys(st.header).sort()
    expect(names).toEqual(
      RECORDS.flatMap(rec => [`${rec.id}.hidden.4`, `${rec.id}.hidden.6`, `${rec.id}.logits`]).sort()
    )
    expect(st.metadata.layers).toBe('4,6')
    for (const rec of RECORDS) {
      const tokens = Array.from(tokenize(rec.seq, rec.id))
      const T = tokens.length
      const ref = referenceForward(weights, referenceConfigFor(SHAPE), tokens)
      expect(st.header[`${rec.id}.logits`]).toMatchObject({ dtype: 'F32', shape: [T, 33] })
      expect(relativeError(st.get(`${rec.id}.logits`), ref.logits), `${rec.id} logits`).toBeLessThan(TOL)
      for (const l of [4, 6]) {
        expect(st.header[`${rec.id}.hidden.${l}`]).toMatchObject({ dtype: 'F32', shape: [T, SHAPE.hidden] })
        expect(relativeError(st.get(`${rec.id}.hidden.${l}`), ref.hidden[l]), `${rec.id} layer ${l}`).toBeLessThan(TOL)
      }
    }
  })

  it('writes only logits without --layers, from a plain FASTA', () => {
    const fa = join(tmp.dir, 'plain.fasta')
    writeFileSync(fa, fasta(RECORDS.slice(0, 2)))
    const out = join(tmp.dir, 'logits-only.safetensors')
    const r = plmSae([
      'infer',
      '--model',
      model,
      '--fasta',
      fa,
      '--out',
      out,
      '--device',
      'cpu',
      '--cache-dir',
      cache,
      '--quiet'
    ])
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    expect(Object.keys(readSafetensors(out).header).sort()).toEqual(['second.logits', 'sp|P1|FIRST.logits'])
  })

  const bad: { name: string; content?: string; args?: string[]; message: RegExp }[] = [
    {
      name: 'an unknown residue (names the id, the position and the character)',
      content: '>ok\nMKV\n>weird desc\nACDEF\nGHJKL\n',
      message: /bad\.fasta:3: sequence "weird": character "J" at residue 8 is not in the ESM alphabet/
    },
    {
      name: 'a stop codon',
      content: '>stop\nMKV*\n',
      message: /sequence "stop": character "\*" at residue 4.*stop codon/
    },
    {
      name: 'a missing FASTA file',
      args: ['--fasta', '/nonexistent/in.fasta'],
      message: /\/nonexistent\/in\.fasta: no such file/
    },
    {
      name: 'a missing model',
      args: ['--model', '/nonexistent/model'],
      message: /\/nonexistent\/model: no such file or folder/
    },
    {
      name: 'a layer out of range',
      args: ['--layers', '4,7'],
      message: /--layers: layer 7 does not exist; .* has layers 0 \(embeddings\) to 6/
    },
    { name: 'a layer that is not a number', args: ['--layers', '4,x'], message: /"x" is not a layer number/ },
    {
      name: 'duplicate ids',
      content: '>a\nMKV\n>b\nMKV\n>a second\nMK\n',
      message: /bad\.fasta:5: sequence id "a" appears twice \(first at line 1\)/
    },
    { name: 'an empty FASTA', content: '', message: /bad\.fasta: no FASTA records found/ },
    { name: 'a record with no residues', content: '>empty\n>b\nMK\n', message: /sequence "empty" is empty/ },
    {
      name: 'a file that is not FASTA',
      content: 'MKVLA\n>x\nMK\n',
      message: /bad\.fasta:1: sequence data before the first ">" header/
    },
    { name: 'binary data (a NUL byte)', content: '>x\nMK\0VL\n', message: /bad\.fasta:2: binary data \(a NUL byte\)/ }
  ]
  for (const c of bad) {
    it(`exits non-zero with a readable message on ${c.name}`, () => {
      const fa = join(tmp.dir, 'bad.fasta')
      writeFileSync(fa, c.content ?? '>ok\nMKV\n')
      const out = join(tmp.dir, 'bad.safetensors')
      const base: Record<string, string> = { '--model': model, '--fasta': fa, '--out': out }
      const extra = c.args ?? []
      for (let i = 0; i < extra.length; i += 2) base[extra[i]] = extra[i + 1]
      const args = ['infer', ...Object.entries(base).flat(), '--device', 'cpu', '--cache-dir', cache]
      const r = plmSae(args)
      expect(r.code).not.toBe(0)
      expect(r.stderr).toMatch(c.message)
      expect(r.stderr).not.toMatch(/\n\s+at /) // a message for people, not a stack trace
      expect(existsSync(out)).toBe(false)
    })
  }

  it('names a missing required option', () => {
    const r = plmSae(['infer', '--model', model, '--out', join(tmp.dir, 'x.safetensors')])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/required option '--fasta <file>' not specified/)
  })
})

describe('plm-sae --help', () => {
  it("lists every command, and each command's --help explains every one of its options", () => {
    const top = plmSae(['--help'])
    expect(top.code).toBe(0)
    const commands = buildProgram().commands
    expect(commands.map(c => c.name())).toEqual(expect.arrayContaining(['infer', 'import', 'device']))
    for (const cmd of commands) {
      expect(top.stdout, `plm-sae --help lists ${cmd.name()}`).toMatch(new RegExp(`^\\s+${cmd.name()}\\b.*\\S`, 'm'))
      const r = plmSae([cmd.name(), '--help'])
      expect(r.code, `${cmd.name()} --help`).toBe(0)
      for (const opt of cmd.options) {
        const flag = opt.long ?? opt.short!
        expect(opt.description.length, `${cmd.name()} ${flag} has a description`).toBeGreaterThan(10)
        const line = r.stdout.split('\n').find(l => l.trimStart().startsWith(opt.flags))
        expect(line, `plm-sae ${cmd.name()} --help lists ${opt.flags}`).toBeDefined()
        expect(r.stdout.replace(/\s+/g, ' '), `plm-sae ${cmd.name()} --help explains ${flag}`).toContain(
          opt.description.replace(/\s+/g, ' ').slice(0, 40)
        )
        // Options a command cannot run without say so.
        if (opt.mandatory)
          expect(r.stdout.replace(/\s+/g, ' '), `plm-sae ${cmd.name()} --help marks ${flag} required`).toContain(
            `${opt.flags} (required) ${opt.description.replace(/\s+/g, ' ').slice(0, 20)}`
          )
      }
      // And each command's help ends with an example of it.
      expect(r.stdout, `plm-sae ${cmd.name()} --help has an example`).toMatch(
        new RegExp(`\\nExamples?:\\n {2}\\$ plm-sae ${cmd.name()}\\b`)
      )
    }
  })
})
