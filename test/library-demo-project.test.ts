import { describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { openDemoProject } from '../src/main/engine/library/demo-project'

const RESOURCES = fileURLToPath(new URL('../resources/', import.meta.url))
const SHARED = fileURLToPath(new URL('../../shared/data/', import.meta.url))
const THREE: Record<string, string> = {
  ALA: 'A',
  ARG: 'R',
  ASN: 'N',
  ASP: 'D',
  CYS: 'C',
  GLN: 'Q',
  GLU: 'E',
  GLY: 'G',
  HIS: 'H',
  ILE: 'I',
  LEU: 'L',
  LYS: 'K',
  MET: 'M',
  PHE: 'F',
  PRO: 'P',
  SER: 'S',
  THR: 'T',
  TRP: 'W',
  TYR: 'Y',
  VAL: 'V'
}

/** Independent minimal parsers: CA residues of a chain (first model), and entry sequences of a flat file. */
function chainResidues(pdb: string, chain: string): { num: number; aa: string }[] {
  const out: { num: number; aa: string }[] = []
  for (const line of readFileSync(pdb, 'utf8').split('\n')) {
    if (line.startsWith('ENDMDL')) break
    if (line.startsWith('ATOM') && line.slice(12, 16).trim() === 'CA' && line[21] === chain)
      out.push({ num: Number(line.slice(22, 26)), aa: THREE[line.slice(17, 20)] ?? 'X' })
  }
  return out
}

function flatFileSequences(path: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const block of readFileSync(path, 'utf8').split('\n//')) {
    const ac = /^AC {3}([A-Z0-9]+);/m.exec(block)
    const sq = block.split('\nSQ   ')[1]
    if (ac && sq)
      out.set(
        ac[1],
        sq
          .split('\n')
          .slice(1)
          .join('')
          .replace(/[^A-Z]/g, '')
      )
  }
  return out
}

const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex')

describe('demo project', () => {
  const demo = openDemoProject(RESOURCES)

  it('ships verbatim copies of the data pack with provenance', () => {
    expect(sha(demo.sequencesPath)).toBe(sha(join(SHARED, 'sequences', 'swissprot-100.dat')))
    const pdbs = readdirSync(join(SHARED, 'structures')).sort()
    expect(demo.manifest.structures.map(s => s.file.replace('structures/', '')).sort()).toEqual(pdbs)
    for (const f of pdbs) expect(sha(join(demo.dir, 'structures', f))).toBe(sha(join(SHARED, 'structures', f)))
    const provenance = readFileSync(join(demo.dir, 'PROVENANCE.md'), 'utf8')
    for (const f of ['swissprot-100.dat', ...pdbs]) expect(provenance).toContain(f)
    expect(provenance).toMatch(/public domain/)
    expect(flatFileSequences(demo.sequencesPath).size).toBe(100)
  })

  it('maps structure chains to the entries they match, residue for residue', () => {
    const seqs = flatFileSequences(demo.sequencesPath)
    let checked = 0
    for (const [i, s] of demo.manifest.structures.entries()) {
      for (const c of s.chains) {
        const res = chainResidues(demo.structurePaths[i], c.chain)
        expect(res.length).toBeGreaterThan(0)
        expect([res[0].num, res[res.length - 1].num]).toEqual([c.authSeqStart, c.authSeqEnd])
        if (!c.inDemoSet) {
          expect(c.uniprot === null || !seqs.has(c.uniprot)).toBe(true)
          continue
        }
        const full = seqs.get(c.uniprot!)!
        expect(full.slice(c.uniprotStart! - 1, c.uniprotEnd!)).toBe(res.map(r => r.aa).join(''))
        checked++
      }
    }
    expect(checked).toBe(4) // 2HHB chains A-D
    expect(demo.structuresByAccession.get('P69905')!.map(x => x.chain.chain)).toEqual(['A', 'C'])
    expect(demo.structuresByAccession.get('P68871')!.map(x => x.chain.chain)).toEqual(['B', 'D'])
  })

  it('ships the real ESM2-8M config and tokenizer files', () => {
    for (const f of ['config.json', 'vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json']) {
      expect(sha(join(RESOURCES, 'esm', f))).toBe(sha(join(SHARED, 'esm2_t6_8M_UR50D', f)))
    }
  })
})
