/**
 * Runs the built preload script (out/preload/index.js) as Electron runs a sandboxed preload: in its own
 * context (node:vm), with a `require` that knows only `electron`, whose `contextBridge` and `ipcRenderer` are
 * stand-ins. `invoke` answers the script's `ipcRenderer.invoke` calls (a test's own answer, or the main
 * process's handler through the Electron stand-in); `ipc` is the emitter its `ipcRenderer.on` listens on.
 */
import { EventEmitter } from 'node:events'
import { readFileSync } from 'node:fs'
import { createContext, runInContext } from 'node:vm'

export interface PreloadRun {
  /** What the script passed to contextBridge.exposeInMainWorld. */
  exposed: { key: string; api: unknown }[]
  invokes: { channel: string; args: unknown[] }[]
  ipc: EventEmitter
  required: string[]
  globalsAdded: string[]
  answer: (channel: string, args: unknown[]) => Promise<unknown>
}

/** Runs the preload bundle in a fresh context, as Electron's sandboxed preload wrapper does. */
export function runPreload(file: string, opts: { invoke: PreloadRun['answer']; ipc?: EventEmitter }): PreloadRun {
  const run: PreloadRun = {
    exposed: [],
    invokes: [],
    ipc: opts.ipc ?? new EventEmitter(),
    required: [],
    globalsAdded: [],
    answer: opts.invoke
  }
  const ipcRenderer = Object.assign(run.ipc, {
    invoke(channel: string, ...args: unknown[]) {
      run.invokes.push({ channel, args })
      return run.answer(channel, args)
    },
    send() {
      throw new Error('the preload must not use ipcRenderer.send')
    },
    sendSync() {
      throw new Error('the preload must not use ipcRenderer.sendSync')
    }
  })
  const electron = {
    contextBridge: {
      exposeInMainWorld(key: string, api: unknown) {
        run.exposed.push({ key, api })
      }
    },
    ipcRenderer
  }
  const require = (name: string): unknown => {
    run.required.push(name)
    // A sandboxed preload can require only a few modules; this app needs electron alone.
    if (name === 'electron') return electron
    throw new Error(`module not found: ${name}`)
  }
  const module = { exports: {} }
  const context = createContext({})
  const before = new Set(Object.getOwnPropertyNames(runInContext('globalThis', context) as object))
  const wrapper = runInContext(
    `(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`,
    context,
    { filename: file }
  ) as (...a: unknown[]) => void
  wrapper(module.exports, require, module, file, '.')
  run.globalsAdded = Object.getOwnPropertyNames(runInContext('globalThis', context) as object).filter(
    k => !before.has(k)
  )
  return run
}
