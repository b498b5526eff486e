/**
 * File patterns for `--include`, with the semantics of Hugging Face's `allow_patterns` (fnmatch):
 * `*` matches any run of characters (slashes included), `?` one character, `[abc]` a set.
 * `layer_4/*` therefore takes everything under layer_4/.
 */
export function globToRegExp(glob: string): RegExp {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]
    if (c === '*') {
      while (glob[i + 1] === '*') i++
      re += '.*'
    } else if (c === '?') re += '.'
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1)
      if (end < 0) re += '\\['
      else {
        let set = glob.slice(i + 1, end).replace(/\\/g, '\\\\')
        if (set.startsWith('!')) set = `^${set.slice(1)}`
        re += `[${set}]`
        i = end
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

/** Keeps the paths matching any of the patterns (all paths when there are none). A folder name "x/" means "x/*". */
export function filterPaths<T extends { path: string }>(items: T[], patterns: string[] | undefined): T[] {
  if (!patterns || patterns.length === 0) return items
  const res = patterns.map(p => globToRegExp(p.endsWith('/') ? `${p}*` : p))
  return items.filter(it => res.some(r => r.test(it.path)))
}
