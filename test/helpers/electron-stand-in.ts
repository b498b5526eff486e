/**
 * A stand-in for the `electron` module (the binary cannot be downloaded on the test machines), so that the
 * built main process (out/main/index.js) and preload script (out/preload/index.js) run under Node. It does
 * what Electron does with the calls the app makes, as far as the app can observe it, and records them:
 * app lifecycle and events, `BrowserWindow` options and loads, `webContents` hooks (navigation, new windows,
 * webviews), `ipcMain` handlers, the default session's hooks (response headers, permissions), the menu,
 * dialogs and `shell.openExternal`.
 *
 *   const electron = createElectronStandIn({ version: '1.2.3' })
 *   const main = loadMainProcess(build.main, electron)   // require()s the bundle with `electron` → stand-in
 *   electron.ready()                                     // app.whenReady() resolves: the app starts
 *   const win = await electron.nextWindow()
 *
 * IPC from a page goes through `electron.invoke(senderUrl, channel, ...args)`, which calls the handler the
 * main process registered with the event Electron would pass (`senderFrame.url` is what the main checks) and,
 * like Electron's `ipcRenderer.invoke`, rejects with "Error invoking remote method '<channel>': <error>".
 */
import { EventEmitter } from 'node:events'
import Module, { createRequire } from 'node:module'
import { dirname, resolve as resolvePath, sep } from 'node:path'
import { format as formatUrl } from 'node:url'
import * as workerThreads from 'node:worker_threads'

export interface PreventableEvent {
  defaultPrevented: boolean
  preventDefault(): void
}

function preventable(): PreventableEvent {
  return {
    defaultPrevented: false,
    preventDefault() {
      this.defaultPrevented = true
    }
  }
}

export class StandInWebContents extends EventEmitter {
  readonly sent: { channel: string; args: unknown[] }[] = []
  readonly executed: string[] = []
  windowOpenHandler: ((details: { url: string }) => { action: 'allow' | 'deny' }) | undefined
  destroyed = false
  /** Receives what the main process sends to this page (the preload's ipcRenderer listens here). */
  readonly toRenderer = new EventEmitter()

  send(channel: string, ...args: unknown[]): void {
    this.sent.push({ channel, args })
    this.toRenderer.emit(channel, { sender: this }, ...args)
  }
  executeJavaScript(code: string): Promise<unknown> {
    this.executed.push(code)
    return Promise.resolve(undefined)
  }
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'allow' | 'deny' }): void {
    this.windowOpenHandler = handler
  }
  isDestroyed(): boolean {
    return this.destroyed
  }
  /** What Electron does before a navigation: 'will-navigate' listeners may prevent it. */
  willNavigate(url: string): PreventableEvent {
    const e = preventable()
    this.emit('will-navigate', e, url)
    return e
  }
  willAttachWebview(): PreventableEvent {
    const e = preventable()
    this.emit('will-attach-webview', e, {}, { src: 'https://example.org/' })
    return e
  }
  /** What Electron does on window.open / target=_blank: the handler decides. */
  windowOpen(url: string): { action: 'allow' | 'deny' } {
    return this.windowOpenHandler ? this.windowOpenHandler({ url }) : { action: 'allow' }
  }
}

export interface ElectronStandInOptions {
  version?: string
  isPackaged?: boolean
}

export interface RecordedWindow {
  options: Record<string, unknown> & { webPreferences?: Record<string, unknown> }
  /** What `loadFile` was given. */
  loadedFile?: string
  /** What `loadURL` was given, or the URL `loadFile` made of its file, as Electron makes it. */
  loadedUrl?: string
  shown: boolean
  webContents: StandInWebContents
  close(): void
}

type Handler = (event: unknown, ...args: unknown[]) => unknown

export interface ElectronStandIn {
  /** The object `require('electron')` returns to the app. */
  module: Record<string, unknown>
  app: EventEmitter & { quitCalls: number; exitCodes: number[] }
  windows: RecordedWindow[]
  ipcHandlers: Map<string, Handler>
  headerListeners: ((
    details: { responseHeaders?: Record<string, string[]> },
    callback: (r: { responseHeaders?: Record<string, string[]> }) => void
  ) => void)[]
  permissionHandler:
    ((wc: unknown, permission: string, callback: (granted: boolean) => void, details?: unknown) => void) | undefined
  menuTemplate: MenuItem[] | undefined
  openedExternally: string[]
  errorBoxes: { title: string; content: string }[]
  /** Resolves `app.whenReady()`. */
  ready(): void
  /** The next window the app creates (or the latest one, when `existing` and there is one). */
  nextWindow(): Promise<RecordedWindow>
  /** An IPC call as a page at `senderUrl` makes it (`ipcRenderer.invoke`). */
  invoke(senderUrl: string | null, channel: string, ...args: unknown[]): Promise<unknown>
  /** Closes every window, as the user would. */
  closeAllWindows(): void
}

export interface MenuItem {
  label?: string
  role?: string
  type?: string
  accelerator?: string
  click?: () => unknown
  submenu?: MenuItem[]
}

export function createElectronStandIn(opts: ElectronStandInOptions = {}): ElectronStandIn {
  let resolveReady: () => void = () => undefined
  const whenReady = new Promise<void>(r => (resolveReady = r))
  const app = Object.assign(new EventEmitter(), { quitCalls: 0, exitCodes: [] as number[] })
  const windows: RecordedWindow[] = []
  const open = new Set<StandInBrowserWindow>()
  const windowWaiters: ((w: RecordedWindow) => void)[] = []
  const ipcHandlers = new Map<string, Handler>()
  const standIn: ElectronStandIn = {
    module: {},
    app,
    windows,
    ipcHandlers,
    headerListeners: [],
    permissionHandler: undefined,
    menuTemplate: undefined,
    openedExternally: [],
    errorBoxes: [],
    ready: () => resolveReady(),
    nextWindow: () => new Promise(r => windowWaiters.push(r)),
    async invoke(senderUrl, channel, ...args) {
      const handler = ipcHandlers.get(channel)
      if (!handler)
        throw new Error(`Error invoking remote method '${channel}': Error: No handler registered for '${channel}'`)
      const event = {
        senderFrame: senderUrl === null ? null : { url: senderUrl },
        sender: windows.at(-1)?.webContents,
        processId: 1,
        frameId: 1
      }
      try {
        // Like Electron, only what survives the structured clone reaches the page.
        return structuredClone(await handler(event, ...args))
      } catch (e) {
        throw new Error(`Error invoking remote method '${channel}': ${String(e)}`, { cause: e })
      }
    },
    closeAllWindows() {
      for (const w of [...open]) w.close()
    }
  }

  class StandInBrowserWindow extends EventEmitter implements RecordedWindow {
    readonly webContents = new StandInWebContents()
    loadedFile?: string
    loadedUrl?: string
    shown = false
    private destroyed = false
    constructor(readonly options: RecordedWindow['options']) {
      super()
      open.add(this)
      windows.push(this)
      app.emit('web-contents-created', {}, this.webContents)
      for (const waiter of windowWaiters.splice(0)) waiter(this)
      // Electron shows 'ready-to-show' once the page has painted.
      setImmediate(() => this.emit('ready-to-show'))
    }
    static getAllWindows(): StandInBrowserWindow[] {
      return [...open]
    }
    static getFocusedWindow(): StandInBrowserWindow | null {
      return [...open].at(-1) ?? null
    }
    loadFile(file: string): Promise<void> {
      this.loadedFile = file
      // Electron's loadFile: loadURL(url.format({ protocol: 'file', slashes: true, pathname: path.resolve(file) })).
      this.loadedUrl = formatUrl({ protocol: 'file', slashes: true, pathname: resolvePath(file) })
      return Promise.resolve()
    }
    loadURL(url: string): Promise<void> {
      this.loadedUrl = url
      return Promise.resolve()
    }
    show(): void {
      this.shown = true
    }
    isDestroyed(): boolean {
      return this.destroyed
    }
    close(): void {
      if (this.destroyed) return
      this.destroyed = true
      this.webContents.destroyed = true
      open.delete(this)
      this.emit('closed')
      if (open.size === 0) app.emit('window-all-closed', preventable())
    }
  }

  Object.assign(app, {
    isPackaged: opts.isPackaged ?? false,
    whenReady: () => whenReady,
    getVersion: () => opts.version ?? '0.0.0-stand-in',
    quit() {
      app.quitCalls++
      const e = preventable()
      app.emit('before-quit', e)
      if (!e.defaultPrevented) app.emit('will-quit', preventable())
    },
    exit(code = 0) {
      app.exitCodes.push(code)
    }
  })

  standIn.module = {
    app,
    BrowserWindow: StandInBrowserWindow,
    ipcMain: {
      handle(channel: string, handler: Handler) {
        if (ipcHandlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`)
        ipcHandlers.set(channel, handler)
      },
      removeHandler(channel: string) {
        ipcHandlers.delete(channel)
      }
    },
    session: {
      defaultSession: {
        webRequest: {
          onHeadersReceived(listener: ElectronStandIn['headerListeners'][number]) {
            standIn.headerListeners.push(listener)
          }
        },
        setPermissionRequestHandler(handler: ElectronStandIn['permissionHandler']) {
          standIn.permissionHandler = handler
        }
      }
    },
    Menu: {
      buildFromTemplate: (template: MenuItem[]) => ({ template }),
      setApplicationMenu(menu: { template: MenuItem[] } | null) {
        standIn.menuTemplate = menu?.template
      }
    },
    dialog: {
      showMessageBox: () => Promise.resolve({ response: 0, checkboxChecked: false }),
      showOpenDialog: () => Promise.resolve({ canceled: true, filePaths: [] }),
      showErrorBox(title: string, content: string) {
        standIn.errorBoxes.push({ title, content })
      }
    },
    shell: {
      openExternal(url: string) {
        standIn.openedExternally.push(url)
        return Promise.resolve()
      }
    }
  }
  return standIn
}

/** The stand-in the next `require('electron')` gets (one per process: the main process and the preload). */
let current: Record<string, unknown> | undefined
const STAND_IN_ID = '\0electron-stand-in'
let hooked = false

function hookElectron(): void {
  if (hooked) return
  hooked = true
  const M = Module as unknown as {
    _resolveFilename: (request: string, ...rest: unknown[]) => string
    _cache: Record<string, unknown>
  }
  const resolve = M._resolveFilename
  M._resolveFilename = function (request: string, ...rest: unknown[]): string {
    if (request === 'electron') return STAND_IN_ID
    return resolve.call(this, request, ...rest)
  }
  const stub = new Module(STAND_IN_ID)
  Object.defineProperty(stub, 'exports', { get: () => current, set: () => undefined })
  stub.loaded = true
  M._cache[STAND_IN_ID] = stub
}

export interface WorkerSpawn {
  file: string
  execArgv: unknown
}

export interface LoadedMain {
  /** Every worker thread the main process started (its file and flags). */
  workers: WorkerSpawn[]
  /** Undoes the worker recording. */
  restore(): void
}

/**
 * Loads the built main process with `electron` resolved to the stand-in (afresh when it was loaded before),
 * recording the worker threads it starts. `resourcesPath` stands in for Electron's `process.resourcesPath`.
 */
export function loadMainProcess(
  mainFile: string,
  electron: ElectronStandIn,
  opts: { resourcesPath?: string } = {}
): LoadedMain {
  hookElectron()
  current = electron.module
  if (opts.resourcesPath !== undefined)
    (process as unknown as { resourcesPath: string }).resourcesPath = opts.resourcesPath
  const workers: WorkerSpawn[] = []
  const wt = createRequire(import.meta.url)('node:worker_threads') as typeof workerThreads
  const RealWorker = wt.Worker
  class RecordingWorker extends RealWorker {
    constructor(file: string | URL, options?: workerThreads.WorkerOptions) {
      workers.push({ file: String(file), execArgv: options?.execArgv })
      super(file, options)
    }
  }
  wt.Worker = RecordingWorker
  // A second load in the same process runs the bundle afresh (its module-level state, e.g. the dev URL).
  const folder = dirname(mainFile) + sep
  const cache = (Module as unknown as { _cache: Record<string, unknown> })._cache
  for (const key of Object.keys(cache)) if (key.startsWith(folder)) delete cache[key]
  createRequire(mainFile)(mainFile)
  return {
    workers,
    restore() {
      wt.Worker = RealWorker
    }
  }
}

/** Runs `fn` with `process.platform` reading `platform` (the main process reads it when events arrive). */
export async function withPlatform<T>(platform: NodeJS.Platform, fn: () => T | Promise<T>): Promise<T> {
  const original = Object.getOwnPropertyDescriptor(process, 'platform')!
  Object.defineProperty(process, 'platform', { ...original, value: platform })
  try {
    return await fn()
  } finally {
    Object.defineProperty(process, 'platform', original)
  }
}
