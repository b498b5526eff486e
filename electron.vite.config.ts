/**
 * electron-vite build of the desktop app: main process (src/main/index.ts + the job worker), the sandboxed
 * preload bridge (src/preload/index.ts, one CommonJS file) and the React renderer (src/renderer).
 * `npx electron-vite build` writes out/main, out/preload and out/renderer. out/renderer uses relative asset
 * paths, so `plm-sae serve` serves the very same files to a browser.
 */
import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import react from '@vitejs/plugin-react'

/** The renderer's import aliases (also in tsconfig.json, scripts/build-web.mjs and vitest.config.mts). */
const RENDERER_ALIASES = {
  '@renderer': resolve(__dirname, 'src/renderer/src'),
  '@shared': resolve(__dirname, 'src/shared')
}

/** Native modules and Electron are loaded at run time from node_modules (unpacked from the asar in packages). */
const NATIVE = ['onnxruntime-node', 'better-sqlite3', 'electron', 'webgpu']

export default defineConfig({
  main: {
    build: {
      // Dependencies load from node_modules at run time, except d3 (ESM-only, used by the experiment report's plots in
      // src/shared/experiment-plots.ts): it is bundled, since the package ships no node_modules but the native ones.
      externalizeDeps: { exclude: ['d3'] },
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          'workbench-worker': resolve(__dirname, 'src/main/workbench/worker.ts')
        },
        external: NATIVE
      }
    }
  },
  preload: {
    build: {
      // A sandboxed preload can only require('electron'): everything else is bundled into one CommonJS file.
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        external: ['electron'],
        output: { format: 'cjs', entryFileNames: '[name].js' }
      }
    }
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    base: './',
    resolve: { alias: RENDERER_ALIASES },
    plugins: [react()],
    build: {
      outDir: resolve(__dirname, 'out/renderer'),
      emptyOutDir: true,
      chunkSizeWarningLimit: 8000,
      rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } }
    }
  }
})
