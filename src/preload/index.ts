/**
 * The preload bridge (sandboxed, context-isolated): exposes exactly `WorkbenchApi` as `window.workbench`.
 * Each method forwards its one JSON request over IPC; the main process validates it before anything runs.
 * Nothing else of Electron or Node reaches the page.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import {
  API_METHODS,
  IPC_INVOKE_CHANNEL,
  IPC_JOB_EVENT_CHANNEL,
  type ApiCalls,
  type JobEvent,
  type WorkbenchApi
} from '../shared/api'

const calls = Object.fromEntries(
  API_METHODS.map(method => [method, (request: unknown) => ipcRenderer.invoke(IPC_INVOKE_CHANNEL, method, request)])
) as unknown as ApiCalls

const workbench: WorkbenchApi = {
  ...calls,
  onJobEvent(listener: (event: JobEvent) => void): () => void {
    const handler = (_e: IpcRendererEvent, event: JobEvent): void => listener(event)
    ipcRenderer.on(IPC_JOB_EVENT_CHANNEL, handler)
    return () => {
      ipcRenderer.removeListener(IPC_JOB_EVENT_CHANNEL, handler)
    }
  }
}

contextBridge.exposeInMainWorld('workbench', workbench)
