/**
 * The Electron main process: one window with the renderer, a menu, and IPC handlers that are thin adapters
 * over the workbench service (src/main/workbench): every request is checked against the typed contract
 * (src/shared/validate.ts) before it reaches the engine.
 *
 * Security (Electron's checklist): context isolation, sandboxed renderer, no Node integration, a strict
 * Content-Security-Policy (header and <meta>), no remote content (navigation and new windows are refused;
 * https links open in the system browser), permission requests denied, IPC only from the app's own page.
 */
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  session,
  shell,
  type IpcMainInvokeEvent,
  type MenuItemConstructorOptions
} from 'electron'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { IPC_INVOKE_CHANNEL, IPC_JOB_EVENT_CHANNEL } from '../shared/api'
import { resourcesDir } from './engine/fs/resources-path'
import { dispatch } from './workbench/dispatch'
import { CONTENT_SECURITY_POLICY } from './workbench/http-server'
import { openWorkbench, type WorkbenchService } from './workbench/service'

const RENDERER_DEV_URL = process.env.ELECTRON_RENDERER_URL
const RENDERER_FILE = join(__dirname, '../renderer/index.html')

let service: WorkbenchService | undefined
let mainWindow: BrowserWindow | undefined

/**
 * Whether `url` is the app's own page, on any route (the hash and query are the renderer's): the built
 * index.html itself (not a file next to it, nor one whose name merely starts the same), or in development
 * the dev server's origin.
 */
function isOwnPage(url: string): boolean {
  if (RENDERER_DEV_URL && !app.isPackaged)
    return URL.canParse(url) && new URL(url).origin === new URL(RENDERER_DEV_URL).origin
  return url.split(/[?#]/, 1)[0] === pathToFileURL(RENDERER_FILE).href
}

/** Only the app's own page may call the API. */
function trustedSender(event: IpcMainInvokeEvent): boolean {
  return isOwnPage(event.senderFrame?.url ?? '')
}

function registerIpc(svc: WorkbenchService): void {
  ipcMain.handle(IPC_INVOKE_CHANNEL, async (event, method: unknown, request: unknown) => {
    if (!trustedSender(event)) throw new Error('Refused: the API is only available to the workbench window.')
    const out = await dispatch(svc, method, request)
    if (out.ok) return out.result
    throw new Error(out.body.error.message)
  })
  svc.onJobEvent(e => {
    for (const w of BrowserWindow.getAllWindows()) if (!w.isDestroyed()) w.webContents.send(IPC_JOB_EVENT_CHANNEL, e)
  })
}

function harden(): void {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } })
  })
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false))
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (!isOwnPage(url)) event.preventDefault()
    })
    contents.on('will-attach-webview', event => event.preventDefault())
    contents.setWindowOpenHandler(({ url }) => {
      if (url.startsWith('https://')) void shell.openExternal(url)
      return { action: 'deny' }
    })
  })
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    minWidth: 900,
    minHeight: 600,
    title: 'PLM-SAE Workbench',
    show: false,
    webPreferences: {
      preload: join(__dirname, '../preload/index.js'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false
    }
  })
  win.once('ready-to-show', () => win.show())
  if (RENDERER_DEV_URL && !app.isPackaged) void win.loadURL(RENDERER_DEV_URL)
  else void win.loadFile(RENDERER_FILE)
  return win
}

function buildMenu(): void {
  const goto = (hash: string) => () =>
    mainWindow?.webContents.executeJavaScript(`window.location.hash = ${JSON.stringify(hash)}`)
  const template: MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Models && projects', accelerator: 'CmdOrCtrl+1', click: goto('#/models') },
        { type: 'separator' },
        { role: 'quit' }
      ]
    },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        { label: 'Features', accelerator: 'CmdOrCtrl+2', click: goto('#/features') },
        { label: 'Feature detail', accelerator: 'CmdOrCtrl+3', click: goto('#/feature-detail') },
        { label: 'Protein', accelerator: 'CmdOrCtrl+4', click: goto('#/protein') },
        { label: 'Structure', accelerator: 'CmdOrCtrl+5', click: goto('#/structure') },
        { label: 'Steering', accelerator: 'CmdOrCtrl+6', click: goto('#/steering') },
        { label: 'Experiments', accelerator: 'CmdOrCtrl+7', click: goto('#/experiments') },
        { label: 'Concept report', accelerator: 'CmdOrCtrl+8', click: goto('#/concept-report') },
        { type: 'separator' },
        { role: 'reload' },
        ...(app.isPackaged ? [] : [{ role: 'toggleDevTools' as const }]),
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { role: 'togglefullscreen' }
      ]
    },
    { role: 'windowMenu' },
    {
      role: 'help',
      submenu: [
        {
          label: 'About PLM-SAE Workbench',
          click: () =>
            void dialog.showMessageBox({
              type: 'info',
              title: 'PLM-SAE Workbench',
              message: `PLM-SAE Workbench ${app.getVersion()}`,
              detail: 'ESM2 protein language models and sparse autoencoders, run locally.'
            })
        }
      ]
    }
  ]
  Menu.setApplicationMenu(Menu.buildFromTemplate(template))
}

async function start(): Promise<void> {
  await app.whenReady()
  harden()
  buildMenu()
  service = await openWorkbench({
    mode: 'desktop',
    version: app.getVersion(),
    resourcesDir: resourcesDir({
      isPackaged: app.isPackaged,
      resourcesPath: process.resourcesPath,
      fromDir: __dirname
    }),
    workerEntry: () => ({ file: join(__dirname, 'workbench-worker.js'), execArgv: [] }),
    chooseFolder: async title => {
      const r = await dialog.showOpenDialog(mainWindow ?? BrowserWindow.getFocusedWindow()!, {
        title,
        properties: ['openDirectory']
      })
      return r.canceled ? undefined : r.filePaths[0]
    },
    chooseStoreFile: async title => {
      const r = await dialog.showOpenDialog(mainWindow ?? BrowserWindow.getFocusedWindow()!, {
        title,
        properties: ['openFile'],
        filters: [
          { name: 'PLM-SAE store', extensions: ['sqlite', 'sqlite3', 'db'] },
          { name: 'All files', extensions: ['*'] }
        ]
      })
      return r.canceled ? undefined : r.filePaths[0]
    }
  })
  registerIpc(service)
  mainWindow = createWindow()
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow()
  })
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})
app.on('will-quit', () => {
  void service?.close()
})

start().catch((e: Error) => {
  dialog.showErrorBox('PLM-SAE Workbench could not start', e.message)
  app.exit(1)
})
