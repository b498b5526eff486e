/**
 * One schema per request, one wording of a refused request: a bad nested field is named by its path, with the
 * same message over HTTP (400), through the dispatcher the Electron IPC handler uses, and from the CLI that
 * builds the same request (`plm-sae steer`). The desktop IPC round trip is in desktop-main.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from './helpers/tmp'
import { runCli } from './helpers/cli'
import { WorkbenchService } from '../src/main/workbench/service'
import { startHttpServer, type RunningHttpServer } from '../src/main/workbench/http-server'
import { dispatch } from '../src/main/workbench/dispatch'
import { checkExperimentDesign } from '../src/shared/experiment-types'
import { MAX_STEERING_N, STEERING_LIMITS } from '../src/shared/steering-types'

let tmp: { dir: string; cleanup: () => void }
let service: WorkbenchService
let server: RunningHttpServer

beforeAll(async () => {
  tmp = tempDir('field-paths')
  service = new WorkbenchService({
    mode: 'browser',
    dataDir: join(tmp.dir, 'data'),
    resourcesDir: join(__dirname, '..', 'resources'),
    firstRunDemo: false
  })
  const staticDir = join(tmp.dir, 'renderer')
  mkdirSync(staticDir, { recursive: true })
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>workbench</title>')
  server = await startHttpServer({ api: service, staticDir, port: 0 })
})

afterAll(async () => {
  await server?.close()
  await service.close()
  tmp.cleanup()
})

async function post(method: string, body: unknown): Promise<{ status: number; message: string }> {
  const res = await fetch(`${server.url}api/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body)
  })
  const json = (await res.json()) as { error: { kind: string; message: string } }
  return { status: res.status, message: json.error.message }
}

const settings = { mode: 'edit', n: 1, seed: 1, temperature: 0, rounds: 1, maskFraction: 0.1 }
const clamp = (feature: number, value = 1): unknown => ({ feature, mode: 'absolute', value })

describe('a bad nested field is named by its path', () => {
  it('over HTTP (400) and through the IPC dispatcher, with the same message', async () => {
    const steering = {
      projectId: 'demo',
      start: { id: 'p', sequence: 'MKTAYIAK' },
      clamps: [clamp(1), clamp(2), clamp(-3)],
      settings,
      pll: false
    }
    const expected = 'Invalid request: request.clamps[2].feature: must be between 0 and 16777216, got -3'
    expect(await post('startSteering', steering)).toEqual({ status: 400, message: expected })
    expect(await dispatch(service, 'startSteering', steering)).toEqual({
      ok: false,
      status: 400,
      body: { error: { kind: 'invalid-request', message: expected } }
    })

    const nested = { ...steering, clamps: [clamp(1)], settings: { ...settings, mode: 'denovo' } }
    expect(await post('startSteering', nested)).toEqual({
      status: 400,
      message: 'Invalid request: request.settings.length: de novo generation needs a length (a whole number ≥ 1)'
    })

    const design = {
      name: 'x',
      start: { kind: 'denovo', length: 10 },
      generation: { mode: 'denovo', temperature: 1, rounds: 2, maskFraction: 0.1 },
      n: 2,
      seed: 1,
      clampSets: [{ clamps: [clamp(1), { feature: 2, mode: 'sideways', value: 1 }] }],
      doses: [1],
      controls: { noClamp: true, ablation: false, randomDraws: 0 },
      pll: 'off',
      success: { kind: 'activation' }
    }
    const bad = await post('startExperiment', { projectId: 'demo', design })
    expect(bad.status).toBe(400)
    expect(bad.message).toMatch(
      /^Invalid request: request\.design\.clampSets\[0\]\.clamps\[1\]\.mode: must be one of absolute, multiple-of-max, add-to-natural; got "sideways"$/
    )
    // the renderer and the CLI check a design with the same schema, the path from "design"
    expect(() => checkExperimentDesign(design)).toThrow(bad.message.replace('Invalid request: request.', ''))
  })

  it('a thing that does not exist is a 404, not a 400', async () => {
    const r = await post('openProject', { projectId: 'no-such-project' })
    expect(r.status).toBe(404)
    expect(r.message).toMatch(/no project "no-such-project"/)
  })

  it('the steering limits are the same in the app and the CLI (the stricter 10,000 sequences)', async () => {
    expect(STEERING_LIMITS.n.max).toBe(10_000)
    const tooMany = await post('startSteering', {
      projectId: 'demo',
      clamps: [],
      settings: { ...settings, n: MAX_STEERING_N + 1 },
      pll: false
    })
    expect(tooMany).toEqual({
      status: 400,
      message: `Invalid request: request.settings.n: must be between 1 and ${MAX_STEERING_N}, got ${MAX_STEERING_N + 1}`
    })
    const out = join(tmp.dir, 'never.fasta')
    const cli = await runCli([
      'steer',
      '--model',
      tmp.dir,
      '--sae',
      tmp.dir,
      '--sequence',
      'MKT',
      '--n',
      '10001',
      '--out',
      out
    ])
    expect(cli.code).not.toBe(0)
    expect(cli.err).toMatch(/--n must be a whole number from 1 to 10000, got "10001"/)
  })

  it('from the CLI, with the message the transports give for the same request', async () => {
    const out = join(tmp.dir, 'never.fasta')
    // The request is checked before the model is opened: the folders need not hold a model.
    const cli = await runCli([
      'steer',
      '--model',
      tmp.dir,
      '--sae',
      tmp.dir,
      '--sequence',
      'MKTAYIAK',
      '--clamp',
      '1=1',
      '--clamp',
      '3=2e7',
      '--no-pll',
      '--out',
      out
    ])
    expect(cli.code).toBe(1)
    const overHttp = await post('startSteering', {
      projectId: 'demo',
      start: { id: 'start', sequence: 'MKTAYIAK' },
      clamps: [clamp(1), clamp(3, 2e7)],
      settings,
      pll: false
    })
    expect(overHttp.message).toBe(
      'Invalid request: request.clamps[1].value: must be between -1000000 and 1000000, got 20000000'
    )
    expect(cli.err.trim()).toBe(`plm-sae: error: ${overHttp.message}`)
  })
})
