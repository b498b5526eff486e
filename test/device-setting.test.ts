/**
 * The app's device setting: validated on the way in, saved in settings.json, the start-up choice of the
 * desktop app (where no --device is given), shown with the provider; and the provider indicator's label.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { SettingsStore } from '../src/main/engine/library/app-settings'
import { openWorkbench } from '../src/main/workbench/service'
import { validateRequest } from '../src/shared/validate'
import { providerLabel } from '../src/renderer/src/views/models/provider-badge'
import { tempDir } from './helpers/tmp'

const tmp = tempDir('device-setting')
afterAll(() => tmp.cleanup())
const resourcesDir = join(__dirname, '..', 'resources')

describe('device setting', () => {
  it('accepts the four choices and refuses anything else', () => {
    for (const device of ['auto', 'cuda', 'webgpu', 'cpu'])
      expect(validateRequest('setDevice', { device })).toEqual({ device })
    expect(() => validateRequest('setDevice', { device: 'tpu' })).toThrow(/device/)
  })

  it('a hand-edited settings file with an unknown device loses only that key', () => {
    const dir = join(tmp.dir, 'edited')
    const store = new SettingsStore(dir)
    store.update({ lastModelId: 'm' })
    writeFileSync(store.path, JSON.stringify({ lastModelId: 'm', device: 'tpu' }))
    expect(store.load()).toEqual({ lastModelId: 'm' })
  })

  it('is saved, applies at the next start, and the provider says which choice it runs with', async () => {
    const dataDir = join(tmp.dir, 'app')
    const first = await openWorkbench({ mode: 'browser', dataDir, resourcesDir, firstRunDemo: false })
    const before = await first.appInfo({})
    expect(before.provider.choice).toBe('auto')
    expect(before.savedDevice).toBeUndefined()
    const saved = await first.setDevice({ device: 'cpu' })
    expect(saved.savedDevice).toBe('cpu')
    expect(saved.provider.choice).toBe('auto') // this run keeps its provider
    expect(new SettingsStore(dataDir).load().device).toBe('cpu')
    await first.close()
    const next = await openWorkbench({ mode: 'browser', dataDir, resourcesDir, firstRunDemo: false })
    const info = await next.appInfo({})
    expect(info.provider).toMatchObject({ provider: 'cpu', choice: 'cpu', reason: 'asked for the CPU' })
    await next.close()
    // --device (plm-sae serve) wins over the saved choice
    const served = await openWorkbench({
      mode: 'browser',
      dataDir,
      resourcesDir,
      firstRunDemo: false,
      runtime: { device: 'cuda', deviceId: 0, threads: 1 }
    })
    expect((await served.appInfo({})).provider.choice).toBe('cuda')
    await served.close()
  })
})

describe('provider indicator label', () => {
  const base = { threads: 0, summary: '' }
  it('names the CUDA GPU, the WebGPU adapter (software said so) or the CPU', () => {
    expect(providerLabel({ ...base, provider: 'cuda', deviceName: 'NVIDIA H100', deviceId: 0 })).toBe(
      'GPU: NVIDIA H100 (CUDA)'
    )
    expect(
      providerLabel({
        ...base,
        provider: 'webgpu',
        adapter: { vendor: 'amd', name: 'AMD Radeon RX 7900 XTX', backend: 'Vulkan', software: false }
      })
    ).toBe('GPU: AMD Radeon RX 7900 XTX (amd, Vulkan)')
    expect(
      providerLabel({
        ...base,
        provider: 'webgpu',
        adapter: { vendor: 'google', name: 'SwiftShader driver 5.0.0', backend: 'Vulkan', software: true }
      })
    ).toBe('WebGPU (software): SwiftShader driver 5.0.0 (google, Vulkan)')
    expect(providerLabel({ ...base, provider: 'cpu' })).toBe('CPU')
  })
})
