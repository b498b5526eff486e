/**
 * The import graph of src/ has no circle. Every import of every module (static, re-export, type-only, dynamic
 * `import()`) is resolved the way the type programs resolve it (TypeScript's resolver, with the @renderer/@shared
 * aliases of tsconfig.web.json); the graph's strongly connected components (Tarjan) must all be single files
 * that do not import themselves. A failure lists each circle as a path of files.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const src = join(root, 'src')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : []
  })
}

const fromRoot = (path: string): string => relative(root, path).split(sep).join('/')

/** file → the files of src/ it imports. */
function importGraph(): Map<string, Set<string>> {
  const { config } = ts.readConfigFile(join(root, 'tsconfig.web.json'), ts.sys.readFile)
  const options = ts.parseJsonConfigFileContent(config, ts.sys, root).options
  const host = ts.createCompilerHost(options)
  const graph = new Map<string, Set<string>>()
  for (const file of sourceFiles(src)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
    const targets = new Set<string>()
    for (const { fileName: specifier } of importedFiles) {
      const resolved = ts.resolveModuleName(specifier, file, options, host).resolvedModule
      if (!resolved || resolved.isExternalLibraryImport) continue
      const target = resolved.resolvedFileName
      if (target.startsWith(src + sep) && !target.endsWith('.d.ts')) targets.add(fromRoot(target))
    }
    graph.set(fromRoot(file), targets)
  }
  return graph
}

/** The strongly connected components with a circle in them (Tarjan's algorithm). */
function circles(graph: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  const visit = (v: string): void => {
    index.set(v, index.size)
    low.set(v, index.get(v)!)
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!))
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        component.push(w)
      } while (w !== v)
      if (component.length > 1 || graph.get(v)?.has(v)) found.push(component.sort())
    }
  }
  for (const v of graph.keys()) if (!index.has(v)) visit(v)
  return found
}

/** One circle through a component, as `a → b → … → a` (breadth-first from its first file back to it). */
function describeCircle(graph: Map<string, Set<string>>, component: string[]): string {
  const members = new Set(component)
  const start = component[0]
  const previous = new Map<string, string>()
  const queue = [start]
  while (queue.length > 0) {
    const v = queue.shift()!
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue
      if (w === start) {
        const path = [v]
        while (path[0] !== start) path.unshift(previous.get(path[0])!)
        return [...path, start].join(' → ')
      }
      if (!previous.has(w)) {
        previous.set(w, v)
        queue.push(w)
      }
    }
  }
  return component.join(', ')
}

describe('import graph of src/', () => {
  const graph = importGraph()

  it('resolves relative imports and the @renderer/@shared aliases', () => {
    // Checks of the graph builder itself: an alias import, a relative import and a dynamic import() are edges.
    expect(graph.get('src/renderer/src/views/feature-detail/FeatureDetailView.tsx')).toContain(
      'src/shared/store-types.ts'
    )
    expect(graph.get('src/renderer/src/views/feature-detail/FeatureDetailView.tsx')).toContain(
      'src/renderer/src/components/use-async.ts'
    )
    expect(graph.get('src/preload/index.ts')).toContain('src/shared/api.ts')
    expect(graph.get('src/main/engine/library/model-library.ts')).toContain('src/main/engine/library/demo-runtime.ts')
    expect(graph.size).toBeGreaterThan(150)
  })

  it('finds a planted circle', () => {
    const planted = new Map(graph)
    planted.set('src/shared/api.ts', new Set([...planted.get('src/shared/api.ts')!, 'src/preload/index.ts']))
    expect(circles(planted)).toContainEqual(['src/preload/index.ts', 'src/shared/api.ts'])
    expect(circles(planted)).toHaveLength(circles(graph).length + 1)
  })

  it('has no circle', () => {
    const found = circles(graph).map(c => describeCircle(graph, c))
    expect(found, `import circles:\n${found.join('\n')}`).toEqual([])
  })
})
