/**
 * PROSITE patterns (the syntax of the PROSITE user manual, section IV.E):
 *   elements separated by `-`; an amino acid letter; `x` (any); `[ALT]` (any of); `{AM}` (none of);
 *   a repeat after an element: `x(3)` (exactly 3), `x(2,4)` (2 to 4); `<` at the start anchors the pattern to
 *   the N-terminus, `>` at the end to the C-terminus; inside a final `[...]`, `>` means "or the C-terminus"
 *   (e.g. `F-[IVFY]-G-[LM]-M-[G>]`); a trailing `.` is allowed.
 * Example PS00028 (C2H2 zinc finger): `C-x(2,4)-C-x(3)-[LIVMFYWC]-x(8)-H-x(3,5)-H`.
 *
 * Matching follows ScanProsite's default: scanning from the N-terminus, at each position the longest match
 * (variable repeats are greedy), and matches do not overlap (the scan resumes after a match). With
 * `overlapping`, every start position with a match is reported.
 */

export interface MotifHit {
  /** 1-based first residue. */
  start: number
  /** 1-based last residue (inclusive). */
  end: number
  match: string
}

export interface PrositePattern {
  source: string
  /** The equivalent JavaScript regular expression (over upper-case one-letter sequences). */
  regex: RegExp
}

const LETTERS = /^[A-Z]$/

export class PrositeSyntaxError extends Error {
  constructor(pattern: string, position: number, what: string) {
    super(
      `PROSITE pattern "${pattern}": ${what} at character ${position + 1}. Syntax: elements separated by "-": a letter, x, [ABC], {ABC}, each optionally followed by (n) or (n,m); "<" first / ">" last anchor the ends. Example: C-x(2,4)-C-x(3)-[LIVMFYWC]-x(8)-H-x(3,5)-H`
    )
    this.name = 'PrositeSyntaxError'
  }
}

/** Parses a PROSITE pattern into a regular expression; throws `PrositeSyntaxError` naming the character at fault. */
export function parseProsite(source: string): PrositePattern {
  let p = source.trim()
  if (p.endsWith('.')) p = p.slice(0, -1)
  if (p.length === 0) throw new PrositeSyntaxError(source, 0, 'empty pattern')
  let i = 0
  let re = ''
  const fail: (what: string) => never = what => {
    throw new PrositeSyntaxError(source, source.indexOf(p) + i, what)
  }
  if (p[i] === '<') {
    re += '^'
    i++
  }
  let elements = 0
  for (;;) {
    if (i >= p.length) fail('expected an element')
    const ch = p[i].toUpperCase()
    let atom: string
    let canRepeat = true
    if (ch === 'X') {
      atom = '[A-Z]'
      i++
    } else if (LETTERS.test(ch)) {
      atom = ch
      i++
    } else if (ch === '[' || ch === '{') {
      const close = ch === '[' ? ']' : '}'
      const end = p.indexOf(close, i + 1)
      if (end < 0) fail(`"${ch}" is not closed by "${close}"`)
      let body = p.slice(i + 1, end).toUpperCase()
      let orEnd = false
      if (ch === '[' && body.endsWith('>')) {
        orEnd = true
        body = body.slice(0, -1)
      }
      if (body.length === 0 && !orEnd) fail(`empty "${ch}${close}"`)
      for (let k = 0; k < body.length; k++) {
        if (!LETTERS.test(body[k])) {
          i += 1 + k
          fail(`"${body[k]}" is not an amino acid letter inside "${ch}${close}"`)
        }
      }
      i = end + 1
      if (orEnd) {
        if (i < p.length) fail('">" inside [...] is only allowed in the last element')
        atom = body.length > 0 ? `(?:[${body}]|$)` : '$'
        canRepeat = false
      } else atom = ch === '[' ? `[${body}]` : `[^${body}]`
    } else fail(`"${p[i]}" is not a pattern element`)
    if (p[i] === '(') {
      if (!canRepeat) fail('a repeat cannot follow an element that may match the C-terminus')
      const end = p.indexOf(')', i)
      if (end < 0) fail('"(" is not closed by ")"')
      const m = /^(\d+)(?:,(\d+))?$/.exec(p.slice(i + 1, end).replace(/\s+/g, ''))
      if (!m) fail('a repeat must be (n) or (n,m) with whole numbers')
      const lo = Number(m![1])
      const hi = m![2] === undefined ? lo : Number(m![2])
      if (hi < lo) fail(`repeat (${lo},${hi}) has its maximum below its minimum`)
      atom = `(?:${atom}){${lo}${m![2] === undefined ? '' : `,${hi}`}}`
      i = end + 1
    }
    re += atom
    elements++
    if (i >= p.length) break
    if (p[i] === '>') {
      if (i !== p.length - 1) fail('">" may only end the pattern')
      re += '$'
      break
    }
    if (p[i] !== '-') fail(`expected "-" between elements, found "${p[i]}"`)
    i++
  }
  if (elements === 0) fail('no elements')
  return { source, regex: new RegExp(re, 'g') }
}

/** Matches of a pattern in a sequence (1-based inclusive positions). */
export function findMotifs(
  pattern: PrositePattern | string,
  sequence: string,
  opts: { overlapping?: boolean } = {}
): MotifHit[] {
  const pat = typeof pattern === 'string' ? parseProsite(pattern) : pattern
  const seq = sequence.toUpperCase()
  const re = new RegExp(pat.regex.source, 'y')
  const hits: MotifHit[] = []
  let from = 0
  while (from <= seq.length) {
    let found = false
    for (let s = from; s <= seq.length; s++) {
      re.lastIndex = s
      const m = re.exec(seq)
      if (m && m[0].length > 0) {
        hits.push({ start: s + 1, end: s + m[0].length, match: m[0] })
        from = opts.overlapping ? s + 1 : s + m[0].length
        found = true
        break
      }
    }
    if (!found) break
  }
  return hits
}
