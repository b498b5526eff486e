/**
 * The alignment and chain choice on the real structures bundled with the demo project, against the residue
 * correspondence the demo manifest records (PDB author numbering ↔ UniProt numbering, chain by chain).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { chooseChain, valuesOnChain } from '../src/shared/chain-mapping'
import { parseStructureChains } from '../src/shared/structure-reader'

const DEMO = join(__dirname, '..', 'resources', 'demo')

interface ManifestChain {
  chain: string
  uniprot: string | null
  entry: string | null
  inDemoSet: boolean
  authSeqStart: number
  authSeqEnd: number
  uniprotStart: number | null
  identical: boolean | null
}
const manifest = JSON.parse(readFileSync(join(DEMO, 'manifest.json'), 'utf8')) as {
  structures: { file: string; chains: ManifestChain[] }[]
}

/** The SQ block of an entry of the Swiss-Prot flat file (a minimal reader written for this test). */
function swissProtSequence(entry: string): string {
  const text = readFileSync(join(DEMO, 'swissprot-100.dat'), 'utf8')
  const start = text.indexOf(`ID   ${entry} `)
  if (start < 0) throw new Error(`${entry} not in the demo set`)
  const end = text.indexOf('\n//', start)
  const record = text.slice(start, end)
  const sq = record.slice(record.indexOf('\nSQ   '))
  return sq
    .split('\n')
    .slice(2)
    .join('')
    .replace(/[^A-Z]/g, '')
}

describe('demo structures: sequence ↔ chain alignment', () => {
  const demoChains = manifest.structures.flatMap(s =>
    s.chains.filter(c => c.inDemoSet).map(c => ({ file: s.file, ...c }))
  )

  it('the manifest has chains of demo proteins to check', () => {
    expect(demoChains.length).toBeGreaterThanOrEqual(2)
  })

  for (const c of demoChains) {
    it(`${c.entry} → ${c.file} chain ${c.chain}: the chosen chain and the residue mapping follow the manifest`, () => {
      const sequence = swissProtSequence(c.entry!)
      const chains = parseStructureChains(readFileSync(join(DEMO, c.file), 'utf8'))
      const choice = chooseChain(sequence, chains)
      // Several chains show the same protein (2HHB: A and C are α, B and D are β): the first one in the file wins.
      const sameProtein = manifest.structures
        .find(s => s.file === c.file)!
        .chains.filter(x => x.uniprot === c.uniprot)
        .map(x => x.chain)
      expect(choice.best?.chainId).toBe(sameProtein[0])
      const match = choice.all.find(m => m.chainId === c.chain)!
      if (c.identical) expect(match.alignment.identity).toBe(1)
      const chain = chains.find(x => x.chainId === c.chain)!
      // Every chain residue n maps to UniProt residue n + (uniprotStart − authSeqStart).
      const shift = c.uniprotStart! - c.authSeqStart
      chain.residues.forEach((r, k) => {
        const q = match.alignment.targetToQuery[k]
        if (r.seqNumber >= c.authSeqStart && r.seqNumber <= c.authSeqEnd)
          expect(q + 1, `${c.chain}:${r.seqNumber}`).toBe(r.seqNumber + shift)
      })
      // Per-residue values land on the same residues: value i on UniProt residue i + 1.
      const values = Array.from(sequence, (_, i) => i + 1)
      const onChain = valuesOnChain(values, match.alignment)
      chain.residues.forEach((r, k) => {
        if (r.seqNumber >= c.authSeqStart && r.seqNumber <= c.authSeqEnd) expect(onChain[k]).toBe(r.seqNumber + shift)
      })
      // The initiator methionine is not in the mature chain: reported as missing from the structure.
      if (shift === 1) expect(match.alignment.missing).toContain(0)
    })
  }

  it('reads every bundled structure and gives each chain a sequence', () => {
    for (const s of manifest.structures) {
      const chains = parseStructureChains(readFileSync(join(DEMO, s.file), 'utf8'))
      for (const c of s.chains) {
        const chain = chains.find(x => x.chainId === c.chain)
        expect(chain, `${s.file} chain ${c.chain}`).toBeDefined()
        expect(chain!.residues[0].seqNumber).toBe(c.authSeqStart)
        expect(chain!.residues[chain!.residues.length - 1].seqNumber).toBe(c.authSeqEnd)
      }
    }
  })
})
