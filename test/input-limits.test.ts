/**
 * Hostile protein inputs are bounded (issue 17): a huge line (NUL bytes, or one sequence on one line) and a
 * huge record (one long sequence spread over many lines in a small .gz) stop with a clear message naming the
 * file and line, without holding the text in memory; a file of nothing but newlines is read at streaming
 * speed and is "no protein records"; the bound can be raised (`maxResidues` / --max-residues /
 * PLM_SAE_MAX_RESIDUES). The inputs are generated gzipped, so they take little disk.
 */
import { createWriteStream, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import { constants, createGzip } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import { countInput, IndexJob } from '../src/main/engine/jobs/index-job'
import {
  BadRecordError,
  DEFAULT_MAX_RESIDUES,
  maxResiduesFromEnv,
  readProteins
} from '../src/main/engine/io/protein-input'
import { readLines } from '../src/main/engine/io/text-lines'
import { LatentStore } from '../src/main/engine/store/latent-store'
import { syntheticSource } from './helpers/synthetic-source'
import { tempDir } from './helpers/tmp'

const tmp = tempDir('input-limits')
afterAll(() => tmp.cleanup())

/** Writes `head`, then `chunk` repeated `times`, then `tail`, gzipped (fast level), to `name`. */
async function gz(name: string, head: string, chunk: Buffer, times: number, tail = ''): Promise<string> {
  const path = join(tmp.dir, name)
  async function* parts(): AsyncGenerator<Buffer> {
    yield Buffer.from(head)
    for (let i = 0; i < times; i++) yield chunk
    yield Buffer.from(tail)
  }
  await pipeline(Readable.from(parts()), createGzip({ level: constants.Z_BEST_SPEED }), createWriteStream(path))
  return path
}

async function drain<T>(gen: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of gen) out.push(x)
  return out
}

const MiB = 1 << 20

describe('bounded input', () => {
  it('256 MiB of NUL bytes stops at once: binary data', async () => {
    const path = await gz('nul.fasta.gz', '', Buffer.alloc(MiB), 256)
    await expect(drain(readLines(path))).rejects.toThrow(
      /nul\.fasta\.gz:1: binary data \(a NUL byte\); protein inputs are FASTA or UniProt text files/
    )
    await expect(countInput(path)).rejects.toThrow(/binary data/)
  })

  it('one sequence on a 256 MiB line stops at the line bound, saying how to raise it', async () => {
    const path = await gz('oneline.fasta.gz', '>long one line\n', Buffer.alloc(MiB, 'A'), 256, '\n')
    const err = await drain(readProteins(path)).then(
      () => undefined,
      (e: Error) => e
    )
    expect(err?.message).toMatch(
      /oneline\.fasta\.gz:2: the line is longer than 1 MiB; is this a FASTA or UniProt text file\? If it is a sequence on one line, to accept longer sequences, raise the bound with --max-residues N/
    )
  })

  it('one long sequence over many lines in a small .gz is a bad record, found without reading it all', async () => {
    const lines = Buffer.from(`${'MKVLAAGIVG'.repeat(6)}\n`.repeat(17_000)) // ~1 MiB of 60-residue lines
    const path = await gz('longrecord.fasta.gz', '>P1 fine\nMKV\n>HUGE sequence\n', lines, 64, '>P2 fine too\nMKVL\n')
    // 'stop': the first bad record stops, naming file, line and id
    await expect(drain(readProteins(path))).rejects.toThrow(
      new RegExp(
        `longrecord\\.fasta\\.gz:3: bad record "HUGE": the sequence has more than ${DEFAULT_MAX_RESIDUES} residues; to accept longer sequences, raise the bound`
      )
    )
    // 'skip': the records around it are read; the long one is reported
    const bad: string[] = []
    const ok = await drain(readProteins(path, { policy: 'skip', onBadRecord: r => bad.push(`${r.line}:${r.id}`) }))
    expect(ok.map(r => r.accession)).toEqual(['P1', 'P2'])
    expect(bad).toEqual(['3:HUGE'])
  })

  it('the bound can be raised or lowered', async () => {
    const path = join(tmp.dir, 'small.fasta')
    writeFileSync(path, '>A\nMKVLA\nGGG\n>B\nMK\n')
    expect((await drain(readProteins(path, { maxResidues: 8 }))).map(r => r.sequence)).toEqual(['MKVLAGGG', 'MK'])
    const err = await drain(readProteins(path, { maxResidues: 7 })).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(err).toBeInstanceOf(BadRecordError)
    expect((err as BadRecordError).report).toMatchObject({
      line: 1,
      id: 'A',
      message: expect.stringContaining('more than 7 residues')
    })
    expect(maxResiduesFromEnv({ PLM_SAE_MAX_RESIDUES: '250000' })).toBe(250_000)
    expect(maxResiduesFromEnv({ PLM_SAE_MAX_RESIDUES: 'lots' })).toBe(DEFAULT_MAX_RESIDUES)
    expect(maxResiduesFromEnv({})).toBe(DEFAULT_MAX_RESIDUES)
    // a UniProt entry too
    const dat = join(tmp.dir, 'small.dat')
    writeFileSync(
      dat,
      'ID   TEST_HUMAN   Reviewed;   12 AA.\nAC   P00001;\nSQ   SEQUENCE   12 AA;\n     MKVLAGGGMK VL\n//\n'
    )
    expect((await drain(readProteins(dat, { maxResidues: 12 }))).map(r => r.sequence)).toEqual(['MKVLAGGGMKVL'])
    await expect(drain(readProteins(dat, { maxResidues: 11 }))).rejects.toThrow(
      /small\.dat:1: bad record "P00001": entry TEST_HUMAN: the sequence has more than 11 residues/
    )
  })

  it('64 MiB of newlines is read at streaming speed and has no protein records', async () => {
    const path = await gz('newlines.fasta.gz', '', Buffer.alloc(MiB, '\n'), 64)
    expect(await countInput(path)).toEqual({ proteins: 0, residues: 0 })
    const store = LatentStore.open(join(tmp.dir, 'newlines.sqlite'))
    const job = new IndexJob({
      store,
      input: path,
      source: syntheticSource(),
      model: { name: 'm', hash: 'm' },
      sae: { name: 's', hash: 's' }
    })
    await expect(job.run()).rejects.toThrow(/newlines\.fasta\.gz: no protein records found/)
    expect(store.runs()).toEqual([])
    store.close()
  })

  it('keeps line numbers, CRLF endings and lines that span read chunks', async () => {
    const long = 'M'.repeat(3 * MiB + 17)
    const path = join(tmp.dir, 'crlf.fasta')
    writeFileSync(path, `>a\r\n\r\nMKV\r\n\n>b\n${long}\r\n`)
    expect((await drain(readLines(path, { maxLineBytes: 4 * MiB }))).map(([n, l]) => [n, l.length])).toEqual([
      [1, 2],
      [3, 3],
      [5, 2],
      [6, long.length]
    ])
    await expect(drain(readLines(path, { maxLineBytes: 3 * MiB }))).rejects.toThrow(
      /crlf\.fasta:6: the line is longer than 3 MiB/
    )
  })
})
