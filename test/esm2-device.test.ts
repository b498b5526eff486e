/**
 * Where sessions run: asking for CUDA on a machine without ONNX Runtime's CUDA provider (this one) gives a
 * working CPU session whose report says why and what to install; `plm-sae device` prints the provider.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { ElemType, GraphBuilder, encodeModel } from '../src/main/engine/onnx/onnx-model'
import { createSession, cudaProviderInstalled, describeProvider } from '../src/main/engine/runtime/execution-provider'
import { tempDir } from './helpers/tmp'

const ROOT = join(__dirname, '..')
const tmp = tempDir('device')
let graph: string

beforeAll(() => {
  const b = new GraphBuilder('double')
  const x = b.input('x', ElemType.FLOAT, [2])
  b.output(b.add(x, x), 'y', ElemType.FLOAT, [2])
  graph = join(tmp.dir, 'double.onnx')
  writeFileSync(graph, encodeModel(b.build(), 'test'))
})
afterAll(() => tmp.cleanup())

async function runOn(device: 'auto' | 'cuda' | 'cpu') {
  const { session, report } = await createSession(graph, { device, deviceId: 0, threads: 1 })
  const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1.5, -2]), [2]) })
  await session.release()
  return { report, y: Array.from(out.y.data as Float32Array) }
}

describe('execution provider', () => {
  // On a machine where `npm run setup:cuda` was run, the fallback cannot be observed: those tests skip.
  it.skipIf(cudaProviderInstalled())(
    '--device cuda without the CUDA provider: a working CPU session, with a reason that says what to install',
    async () => {
      const { report, y } = await runOn('cuda')
      expect(y).toEqual([3, -4])
      expect(report.provider).toBe('cpu')
      expect(report.fallbackReason).toMatch(/NVIDIA/)
      expect(report.fallbackReason).toMatch(/CUDA 12/)
      expect(report.fallbackReason).toMatch(/cuDNN 9/)
      expect(report.fallbackReason).toMatch(/npm run setup:cuda/)
      expect(describeProvider(report)).toMatch(/^CPU \(1 threads\): .*setup:cuda/)
    }
  )

  it('--device cpu never looks for CUDA; auto on a machine without a GPU is the CPU without complaint', async () => {
    const cpu = await runOn('cpu')
    expect(cpu.report).toEqual({ provider: 'cpu', threads: 1, reason: 'asked for the CPU', fallbackReason: undefined })
    const auto = await runOn('auto')
    expect(auto.report.provider).toBe('cpu')
    expect(auto.y).toEqual([3, -4])
  })
})

describe('plm-sae device', () => {
  beforeAll(() => {
    execFileSync('npm', ['run', 'build:cli'], { cwd: ROOT, stdio: 'pipe' })
  })
  const run = (args: string[]) =>
    spawnSync(process.execPath, [join(ROOT, 'bin', 'plm-sae.js'), 'device', ...args], { cwd: ROOT, encoding: 'utf8' })

  it('prints the active provider and its threads', () => {
    const r = run(['--threads', '2'])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^CPU \(2 threads\)/)
  })

  it('says why it is on the CPU, also when it was asked for or there is no NVIDIA GPU', () => {
    const cpu = run(['--device', 'cpu'])
    expect(cpu.stdout).toBe('CPU (auto threads)\nwhy: asked for the CPU\n')
    const auto = run([])
    expect(auto.status).toBe(0)
    // Why neither GPU path is used (CUDA's provider, WebGPU's adapter): never a bare "CPU".
    if (auto.stdout.startsWith('CPU'))
      expect(auto.stdout).toMatch(/^CPU \(auto threads\)[^\n]*\nwhy: auto: CUDA: .*WebGPU: /s)
  })

  it.skipIf(cudaProviderInstalled())('with --device cuda prints the CPU and the reason for the fallback', () => {
    const r = run(['--device', 'cuda'])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^CPU \(auto threads\): .*NVIDIA.*npm run setup:cuda/s)
  })

  it('refuses an unknown device', () => {
    const r = run(['--device', 'tpu'])
    expect(r.status).not.toBe(0)
    expect(r.stderr).toMatch(/'tpu' is invalid.*auto, cuda, webgpu, cpu/s)
  })
})
