// Builds only the renderer (src/renderer → out/renderer) for browser mode (`plm-sae serve`), without the
// Electron main/preload bundles. Same settings as the renderer part of electron.vite.config.ts: relative
// asset paths, so the output is served as it is by `plm-sae serve` (and loaded from file:// by Electron).
import { build } from 'vite'
import react from '@vitejs/plugin-react'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../src/renderer', import.meta.url))
const outDir = process.argv[2] ?? fileURLToPath(new URL('../out/renderer', import.meta.url))
await build({
  configFile: false,
  root,
  base: './',
  // The renderer's import aliases, as in electron.vite.config.ts and tsconfig.json.
  resolve: {
    alias: {
      '@renderer': fileURLToPath(new URL('../src/renderer/src', import.meta.url)),
      '@shared': fileURLToPath(new URL('../src/shared', import.meta.url))
    }
  },
  plugins: [react()],
  logLevel: 'warn',
  build: { outDir, emptyOutDir: true, chunkSizeWarningLimit: 8000 }
})
