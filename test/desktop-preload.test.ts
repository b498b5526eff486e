/**
 * The built preload script (out/preload/index.js), run as Electron runs a sandboxed preload: in its own
 * context (node:vm), with a `require` that knows only `electron`, whose `contextBridge` and `ipcRenderer` are
 * stand-ins that record what the script does. It must expose exactly `window.workbench` = the WorkbenchApi
 * methods + the job-event subscription, each method one `invoke` on the API channel, and nothing else.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import {
  API_METHODS,
  IPC_INVOKE_CHANNEL,
  IPC_JOB_EVENT_CHANNEL,
  type JobEvent,
  type WorkbenchApi
} from '../src/shared/api'
import { cleanIpcMessage } from '../src/renderer/src/api/client'
import { buildDesktop } from './helpers/desktop-build'
import { runPreload, type PreloadRun } from './helpers/preload-runner'

let run: PreloadRun
let api: WorkbenchApi

beforeAll(() => {
  run = runPreload(buildDesktop().preload, { invoke: (_channel, args) => Promise.resolve({ echoed: args }) })
  api = run.exposed[0]?.api as WorkbenchApi
})

describe('the built preload bridge', () => {
  it('requires only electron and exposes one object, as window.workbench', () => {
    expect([...new Set(run.required)]).toEqual(['electron'])
    expect(run.exposed.map(e => e.key)).toEqual(['workbench'])
    expect(run.globalsAdded).toEqual([])
    expect(run.invokes).toEqual([])
  })

  it('exposes exactly the WorkbenchApi methods and the job-event subscription', () => {
    expect(Object.keys(api).sort()).toEqual([...API_METHODS, 'onJobEvent'].sort())
    for (const [k, v] of Object.entries(api)) expect(typeof v, k).toBe('function')
    // Nothing of Electron or Node: no ipcRenderer, no require, no process hidden on the object.
    expect(Object.getOwnPropertyNames(api).sort()).toEqual([...API_METHODS, 'onJobEvent'].sort())
    // A plain object (of the preload's own realm): no class whose prototype could carry more.
    expect(Object.getPrototypeOf(Object.getPrototypeOf(api))).toBeNull()
  })

  it('each method is one invoke of the API channel with the method name and the request, and returns its answer', async () => {
    for (const method of API_METHODS) {
      run.invokes.length = 0
      const request = { probe: method }
      const result = await (api[method] as (r: unknown) => Promise<unknown>)(request)
      expect(run.invokes, method).toEqual([{ channel: IPC_INVOKE_CHANNEL, args: [method, request] }])
      expect(result).toEqual({ echoed: [method, request] })
    }
  })

  it('an error from the main process reaches the page with the message the renderer shows', async () => {
    run.answer = () =>
      Promise.reject(
        new Error(
          `Error invoking remote method '${IPC_INVOKE_CHANNEL}': Error: Invalid request: listFeatures.projectId must be a string`
        )
      )
    const e = (await api.listFeatures({ projectId: 'demo' }).catch((err: Error) => err)) as Error
    expect(cleanIpcMessage(e.message)).toBe('Invalid request: listFeatures.projectId must be a string')
  })

  it('onJobEvent delivers the job events the main process sends, without the IPC event, until unsubscribed', () => {
    const got: JobEvent[] = []
    const off = api.onJobEvent(e => got.push(e))
    expect(run.ipc.listenerCount(IPC_JOB_EVENT_CHANNEL)).toBe(1)
    const event = {
      job: {
        id: 'j1',
        kind: 'index',
        title: 't',
        state: 'running',
        progress: { phase: 'p', done: 1, total: 2, unit: 'sequences' },
        startedAt: 'now'
      }
    } as JobEvent
    run.ipc.emit(IPC_JOB_EVENT_CHANNEL, { sender: 'main', ports: [] }, event)
    expect(got).toEqual([event])
    off()
    expect(run.ipc.listenerCount(IPC_JOB_EVENT_CHANNEL)).toBe(0)
    run.ipc.emit(IPC_JOB_EVENT_CHANNEL, { sender: 'main' }, event)
    expect(got).toHaveLength(1)
  })
})
