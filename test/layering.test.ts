/**
 * The layer rules of eslint.config.mjs (README, "Architecture and development"): for each rule a forbidden
 * import planted in a file of that layer fails lint with no-restricted-imports, and an import the layer may make
 * passes. The files need not exist: ESLint lints the text as if it were at that path.
 */
import { fileURLToPath } from 'node:url'
import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const eslint = new ESLint({ cwd: root })

/** The no-restricted-imports messages lint gives `code` placed at `filePath`, and every other message. */
async function lint(filePath: string, code: string): Promise<{ restricted: string[]; other: string[] }> {
  const [result] = await eslint.lintText(code, { filePath })
  const restricted = result.messages.filter(m => m.ruleId === 'no-restricted-imports').map(m => m.message)
  const other = result.messages.filter(m => m.ruleId !== 'no-restricted-imports').map(m => `${m.ruleId}: ${m.message}`)
  return { restricted, other }
}

const importOf = (specifier: string): string => `import * as planted from '${specifier}'\nexport const used = planted\n`

/** [file of the layer, forbidden specifier, why] */
const FORBIDDEN: [string, string, string][] = [
  // Electron only in src/main/index.ts and src/preload
  ['src/main/engine/jobs/x.ts', 'electron', 'engine → electron'],
  ['src/main/workbench/x.ts', 'electron', 'workbench → electron'],
  ['src/main/cli/commands/x.ts', 'electron', 'CLI → electron'],
  ['src/renderer/src/views/x.tsx', 'electron', 'renderer → electron'],
  ['src/shared/x.ts', 'electron', 'shared → electron'],
  ['test/x.test.ts', 'electron', 'tests → electron'],
  // engine → workbench, CLI, renderer, the Electron entry
  ['src/main/engine/jobs/x.ts', '../../workbench/service', 'engine → workbench'],
  ['src/main/engine/random-x.ts', '../workbench/job-manager', 'engine (top level) → workbench'],
  ['src/main/engine/steer/x.ts', '../../cli/reporter', 'engine → CLI'],
  ['src/main/engine/store/x.ts', '../../../renderer/src/lib/colour-scale', 'engine → renderer'],
  ['src/main/engine/store/x.ts', '../../index', 'engine → Electron main entry'],
  ['src/main/engine/store/x.ts', '@shared/api', 'engine → renderer-only alias'],
  // workbench → CLI
  ['src/main/workbench/x.ts', '../cli/reporter', 'workbench → CLI'],
  ['src/main/workbench/x.ts', '../cli/commands/serve', 'workbench → CLI command'],
  ['src/main/workbench/x.ts', '../index', 'workbench → Electron main entry'],
  // CLI → renderer
  ['src/main/cli/commands/x.ts', '../../../renderer/src/lib/colour-scale', 'CLI → renderer'],
  // preload → main, Node
  ['src/preload/x.ts', '../main/workbench/service', 'preload → main'],
  ['src/preload/x.ts', 'node:fs', 'preload → Node'],
  // renderer → anything but src/shared and itself
  ['src/renderer/src/views/x.tsx', 'node:fs', 'renderer → Node built-in (node:)'],
  ['src/renderer/src/views/x.tsx', 'path', 'renderer → Node built-in'],
  ['src/renderer/src/views/x.tsx', 'fs/promises', 'renderer → Node built-in subpath'],
  ['src/renderer/src/views/x.tsx', 'better-sqlite3', 'renderer → Node-only package'],
  ['src/renderer/src/views/x.tsx', '../../../../main/engine/random', 'renderer → main'],
  ['src/renderer/src/views/x.tsx', '../../../../preload/index', 'renderer → preload'],
  ['src/renderer/src/views/x.tsx', '../../../../shared/api', 'renderer → shared by a ../ chain, not @shared'],
  // shared → nothing but itself
  ['src/shared/x.ts', 'node:path', 'shared → Node built-in'],
  ['src/shared/x.ts', 'crypto', 'shared → Node built-in'],
  ['src/shared/x.ts', 'onnxruntime-node', 'shared → Node-only package'],
  ['src/shared/x.ts', '../main/engine/random', 'shared → main'],
  ['src/shared/x.ts', '../renderer/src/lib/colour-scale', 'shared → renderer'],
  ['src/shared/x.ts', '@renderer/lib/colour-scale', 'shared → renderer alias']
]

/** [file of the layer, allowed specifier, why] */
const ALLOWED: [string, string, string][] = [
  ['src/main/index.ts', 'electron', 'Electron main → electron'],
  ['src/preload/index.ts', 'electron', 'preload → electron'],
  ['src/preload/index.ts', '../shared/api', 'preload → shared'],
  ['src/main/index.ts', './workbench/service', 'Electron main → workbench'],
  ['src/main/cli/commands/x.ts', '../../workbench/service', 'CLI → workbench'],
  ['src/main/cli/commands/x.ts', '../../engine/random', 'CLI → engine'],
  ['src/main/workbench/x.ts', '../engine/random', 'workbench → engine'],
  ['src/main/workbench/x.ts', 'node:path', 'workbench → Node'],
  ['src/main/engine/jobs/x.ts', '../store/latent-store', 'engine → engine'],
  ['src/main/engine/jobs/x.ts', '../../../shared/api', 'engine → shared'],
  ['src/main/engine/jobs/x.ts', 'node:fs', 'engine → Node'],
  ['src/renderer/src/views/x.tsx', '@shared/api', 'renderer → shared'],
  ['src/renderer/src/views/x.tsx', '@renderer/lib/colour-scale', 'renderer → renderer'],
  ['src/renderer/src/views/x.tsx', './y', 'renderer → renderer, relative'],
  ['src/renderer/src/views/x.tsx', 'react', 'renderer → browser package'],
  ['src/shared/x.ts', './api', 'shared → shared'],
  ['src/shared/x.ts', 'd3', 'shared → browser package']
]

describe('layer rules (eslint.config.mjs)', () => {
  it.each(FORBIDDEN)('%s: importing %s fails lint (%s)', async (filePath, specifier) => {
    const { restricted, other } = await lint(filePath, importOf(specifier))
    expect(other).toEqual([])
    expect(restricted).toHaveLength(1)
    expect(restricted[0]).toContain(specifier)
  })

  it('a re-export and a type-only import are checked too', async () => {
    for (const code of [
      `export { app } from 'electron'\n`,
      `import type { App } from 'electron'\nexport type A = App\n`
    ]) {
      const { restricted } = await lint('src/main/workbench/x.ts', code)
      expect(restricted).toHaveLength(1)
    }
  })

  it('Electron loaded at run time (import(), require) fails lint outside src/main/index.ts and src/preload', async () => {
    for (const code of [
      `export const electron = await import('electron')\n`,
      `declare const require: (id: string) => unknown\nexport const electron = require('electron')\n`
    ]) {
      const [result] = await eslint.lintText(code, { filePath: 'src/main/workbench/x.ts' })
      expect(result.messages.map(m => m.ruleId)).toEqual(['no-restricted-syntax'])
      const [entry] = await eslint.lintText(code, { filePath: 'src/main/index.ts' })
      expect(entry.messages).toEqual([])
    }
  })

  it.each(ALLOWED)('%s: importing %s passes lint (%s)', async (filePath, specifier) => {
    expect(await lint(filePath, importOf(specifier))).toEqual({ restricted: [], other: [] })
  })
})
