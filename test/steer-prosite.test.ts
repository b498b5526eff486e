/** The PROSITE pattern matcher against hand-checked examples. */
import { describe, expect, it } from 'vitest'
import { findMotifs, parseProsite } from '../src/main/engine/steer/prosite'

const PS00028 = 'C-x(2,4)-C-x(3)-[LIVMFYWC]-x(8)-H-x(3,5)-H'

describe('PROSITE patterns', () => {
  it('finds the C2H2 zinc finger (PS00028) in a Zif268 finger, with x(3,5) resolved to 3', () => {
    // C3 P V E S C8 D R R F12 S R S D E L T R H21 I R I H25 T G Q K P
    const seq = 'YACPVESCDRRFSRSDELTRHIRIHTGQKP'
    expect(findMotifs(PS00028, seq)).toEqual([{ start: 3, end: 25, match: 'CPVESCDRRFSRSDELTRHIRIH' }])
    // two fingers in a row, lower case input; second: C33 RI C36 MRN F40 SRSDHLTT H49 IRT H53
    const two = (seq + 'FQCRICMRNFSRSDHLTTHIRTHTGEKP').toLowerCase()
    const hits = findMotifs(PS00028, two)
    expect(hits.map(h => [h.start, h.end])).toEqual([
      [3, 25],
      [33, 53]
    ])
    // a finger with the aromatic position wrong does not match
    expect(findMotifs(PS00028, 'YACPVESCDRRASRSDELTRHIRIHTGQKP')).toEqual([])
  })

  it('handles {..} exclusions, non-overlapping and overlapping scans (N-glycosylation, PS00001)', () => {
    const p = 'N-{P}-[ST]-{P}'
    expect(findMotifs(p, 'NNSTNPSA')).toEqual([{ start: 1, end: 4, match: 'NNST' }])
    expect(findMotifs(p, 'NNSTNPSA', { overlapping: true }).map(h => h.start)).toEqual([1, 2])
    expect(findMotifs(p, 'NPSA')).toEqual([])
  })

  it('anchors with < and >, and [..>] as "or the C-terminus"', () => {
    expect(findMotifs('<M-x-K', 'MAKMAK')).toEqual([{ start: 1, end: 3, match: 'MAK' }])
    expect(findMotifs('<M-x-K', 'AMAK')).toEqual([])
    expect(findMotifs('A-x-K>', 'AAKAAK')).toEqual([{ start: 4, end: 6, match: 'AAK' }])
    expect(findMotifs('F-[IVFY]-G-[LM]-M-[G>]', 'AAFIGLM')).toEqual([{ start: 3, end: 7, match: 'FIGLM' }])
    expect(findMotifs('F-[IVFY]-G-[LM]-M-[G>]', 'FIGLMGA')).toEqual([{ start: 1, end: 6, match: 'FIGLMG' }])
    expect(findMotifs('F-[IVFY]-G-[LM]-M-[G>]', 'FIGLMA')).toEqual([])
  })

  it('repeats of any element: (n), (n,m), a trailing "."', () => {
    expect(findMotifs('[AG](2)-x(1,2)-K.', 'CAGTTKC')).toEqual([{ start: 2, end: 6, match: 'AGTTK' }])
    expect(findMotifs('{K}(3)', 'KKAAAK')).toEqual([{ start: 3, end: 5, match: 'AAA' }])
    expect(parseProsite(PS00028).regex.source).toBe(
      'C(?:[A-Z]){2,4}C(?:[A-Z]){3}[LIVMFYWC](?:[A-Z]){8}H(?:[A-Z]){3,5}H'
    )
  })

  it('explains syntax errors with the character at fault', () => {
    expect(() => parseProsite('C-x(2,4-C')).toThrow(/"\(" is not closed|repeat must be/)
    expect(() => parseProsite('C--H')).toThrow(/"-" is not a pattern element at character 3/)
    expect(() => parseProsite('C-[L1]-H')).toThrow(/"1" is not an amino acid letter inside "\[\]" at character 5/)
    expect(() => parseProsite('C-x(4,2)')).toThrow(/maximum below its minimum/)
    expect(() => parseProsite('C-[G>]-H')).toThrow(/only allowed in the last element/)
    expect(() => parseProsite('')).toThrow(/empty pattern/)
    expect(() => parseProsite('CH')).toThrow(/expected "-" between elements, found "H"/)
  })
})
