// Bundles the command-line tool (src/main/cli) to dist/cli.mjs. Native modules stay external.
import { build } from 'esbuild'
import { readFileSync } from 'node:fs'

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
await build({
  // dist/cli.mjs, and the workbench's job worker (worker_threads) next to it as dist/workbench-worker.mjs.
  entryPoints: { cli: 'src/main/cli/plm-sae.ts', 'workbench-worker': 'src/main/workbench/worker.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  sourcemap: true,
  external: ['onnxruntime-node', 'better-sqlite3', 'electron', 'webgpu'],
  define: { 'process.env.PLM_SAE_VERSION': JSON.stringify(pkg.version) },
  banner: {
    js: "import { createRequire as __plmCreateRequire } from 'node:module'; const require = __plmCreateRequire(import.meta.url);"
  },
  logLevel: 'warning'
})
