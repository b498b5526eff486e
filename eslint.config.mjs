import { builtinModules } from 'node:module'
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import reactHooks from 'eslint-plugin-react-hooks'

/*
 * Layer rules (VS Code's model: each layer may import only the layers below it; README, "Architecture and
 * development"). Every file under src/ belongs to exactly one layer below, so each gets exactly one
 * `no-restricted-imports` setting (flat config replaces a rule's options, it does not merge them).
 *
 *   renderer (src/renderer)      → itself, src/shared, browser packages
 *   preload (src/preload)        → src/shared, electron
 *   Electron main (src/main/index.ts) → workbench, engine, src/shared, electron
 *   CLI (src/main/cli)           → workbench, engine, src/shared
 *   workbench (src/main/workbench) → engine, src/shared
 *   engine (src/main/engine)     → src/shared
 *   shared (src/shared)          → itself only
 *
 * Relative specifiers are matched by the folder they name (the layer folders' names are unique in src/).
 * test/layering.test.ts plants a forbidden import for each rule; test/import-cycles.test.ts checks the graph.
 */

const ELECTRON = {
  name: 'electron',
  message:
    'Electron is imported only by src/main/index.ts and src/preload/: the service, engine and CLI run without it.'
}
/** Packages that only run under Node (native addons, the CLI's parser): never in the renderer or the contract. */
const NODE_ONLY_PACKAGES = ['better-sqlite3', 'onnxruntime-node', 'webgpu', 'commander', 'playwright-core']
const NO_NODE = [
  ...builtinModules.map(name => ({ name, message: 'No Node built-ins here: this code runs in the browser too.' })),
  ...NODE_ONLY_PACKAGES.map(name => ({ name, message: 'A Node-only package: this code runs in the browser too.' }))
]
const NO_NODE_PATTERNS = [
  { group: ['node:*'], message: 'No Node built-ins here: this code runs in the browser too.' },
  { group: NODE_ONLY_PACKAGES.map(name => `${name}/*`), message: 'A Node-only package: this code runs in the browser.' }
]
/** A relative specifier that names one of these folders (`../../workbench/service`). */
const intoFolders = (folders, message) => ({ regex: `^\\.\\.?/(.*/)?(${folders.join('|')})/`, message })
/** The Electron main entry (src/main/index.ts), reached from below it: nothing imports it. */
const MAIN_ENTRY = {
  regex: '^(\\.\\./)+index(\\.ts)?$',
  message: 'src/main/index.ts is the Electron entry: nothing imports it.'
}
/** The @renderer/@shared aliases resolve only in the renderer's build; Node code imports src/shared relatively. */
const RENDERER_ALIASES = {
  group: ['@renderer/*', '@shared/*'],
  message: 'The @renderer/@shared aliases exist only in the renderer build: import ../shared/… relatively here.'
}

const layer = (files, { paths = [], patterns = [] }, ignores) => ({
  files,
  ...(ignores ? { ignores } : {}),
  rules: { 'no-restricted-imports': ['error', { paths, patterns }] }
})

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'bin/**', 'release/**', 'test-results/**', '.vite/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['scripts/**/*.mjs', 'bin/**/*.js', '*.mjs'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly', setTimeout: 'readonly' }
    }
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }]
    }
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error' }
  },

  // The layers.
  layer(['src/main/engine/**/*.ts'], {
    paths: [ELECTRON],
    patterns: [
      intoFolders(['workbench', 'cli', 'renderer', 'preload'], 'The engine imports only itself and src/shared.'),
      MAIN_ENTRY,
      RENDERER_ALIASES
    ]
  }),
  layer(['src/main/workbench/**/*.ts'], {
    paths: [ELECTRON],
    patterns: [
      intoFolders(['cli', 'renderer', 'preload'], 'The workbench service imports only the engine and src/shared.'),
      MAIN_ENTRY,
      RENDERER_ALIASES
    ]
  }),
  layer(['src/main/cli/**/*.ts'], {
    paths: [ELECTRON],
    patterns: [
      intoFolders(['renderer', 'preload'], 'The CLI imports the workbench, the engine and src/shared.'),
      MAIN_ENTRY,
      RENDERER_ALIASES
    ]
  }),
  layer(['src/main/index.ts'], {
    patterns: [
      intoFolders(
        ['cli', 'renderer', 'preload'],
        'The Electron main process imports the workbench, the engine and src/shared.'
      ),
      RENDERER_ALIASES
    ]
  }),
  layer(['src/preload/**/*.ts'], {
    paths: builtinModules.map(name => ({ name, message: 'A sandboxed preload can require only electron.' })),
    patterns: [
      { group: ['node:*'], message: 'A sandboxed preload can require only electron.' },
      intoFolders(['main', 'renderer'], 'The preload imports only src/shared and electron.'),
      RENDERER_ALIASES
    ]
  }),
  layer(['src/renderer/**/*.{ts,tsx}'], {
    paths: [ELECTRON, ...NO_NODE],
    patterns: [
      ...NO_NODE_PATTERNS,
      intoFolders(['main', 'preload'], 'The renderer talks to main only through the contract in src/shared.'),
      intoFolders(['shared'], 'The renderer imports the contract as @shared/….')
    ]
  }),
  layer(['src/shared/**/*.ts'], {
    paths: [ELECTRON, ...NO_NODE],
    patterns: [
      ...NO_NODE_PATTERNS,
      { regex: '^\\.\\./', message: 'src/shared imports only itself (./…): it is the contract both sides compile.' },
      { group: ['@renderer/*', '@shared/*'], message: 'src/shared imports only itself, relatively (./…).' }
    ]
  }),
  {
    // no-restricted-imports sees static imports and re-exports only: Electron loaded at run time is caught here.
    files: ['src/**/*.{ts,tsx}', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.mjs'],
    ignores: ['src/main/index.ts', 'src/preload/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "ImportExpression[source.value='electron']", message: ELECTRON.message },
        { selector: "CallExpression[callee.name='require'][arguments.0.value='electron']", message: ELECTRON.message }
      ]
    }
  },
  layer(['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.mjs'], {
    paths: [
      {
        ...ELECTRON,
        message: 'Tests, benchmarks and scripts run without Electron (test/helpers/electron-stand-in.ts).'
      }
    ]
  })
)
