/**
 * Model import under faults (issue 17): NaN / infinite weights are refused when a checkpoint is imported
 * (naming the file, the weight and what was found), leaving no partial cache entry; what a killed import left
 * in the model cache (`*.partial-<pid>` folders, `*.<pid>.tmp` files of processes that are gone) is removed at
 * the next start, while a live process's work in progress is left alone.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { modelCacheRoot } from '../src/main/engine/fs/app-paths'
import { cleanModelCache, importEsm2 } from '../src/main/engine/esm/esm2-import'
import { openWorkbench } from '../src/main/workbench/service'
import { assertFiniteWeights, nonFiniteCounts } from '../src/main/engine/formats/tensor-check'
import { writeHfCheckpoint } from './fixtures/esm2-checkpoint'
import { tempDir } from './helpers/tmp'

const tmp = tempDir('model-import-faults')
afterAll(() => tmp.cleanup())

/** Overwrites float32 values of one tensor of a safetensors file in place. */
function poke(file: string, tensor: string, values: Record<number, number>): void {
  const buf = readFileSync(file)
  const headerLen = Number(buf.readBigUInt64LE(0))
  const header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8')) as Record<
    string,
    { dtype: string; data_offsets: [number, number] }
  >
  const t = header[tensor]
  expect(t.dtype).toBe('F32')
  for (const [i, v] of Object.entries(values)) buf.writeFloatLE(v, 8 + headerLen + t.data_offsets[0] + Number(i) * 4)
  writeFileSync(file, buf)
}

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
  return Number(r.stdout)
}

describe('model import', () => {
  it('counts NaN and infinite values from the definition', () => {
    expect(nonFiniteCounts(Float32Array.from([1, 0, -2, 3.4e38]))).toEqual({ nan: 0, infinite: 0, first: -1 })
    expect(nonFiniteCounts(Float32Array.from([1, NaN, Infinity, -Infinity, NaN]))).toEqual({
      nan: 2,
      infinite: 2,
      first: 1
    })
    expect(() => assertFiniteWeights(Float32Array.from([0, -Infinity]), 'w', 'f.bin')).toThrow(
      /^f\.bin: weight "w" holds 1 infinite value \(of 2; the first at index 1\)/
    )
  })

  it('refuses a checkpoint with NaN or infinite weights, naming the file and the weight, and leaves no partial entry', async () => {
    for (const [name, value, found] of [
      ['nan', NaN, '2 NaN values'],
      ['inf', Infinity, '2 infinite values']
    ] as const) {
      const dir = join(tmp.dir, `model-${name}`)
      writeHfCheckpoint(dir, 'tiny', 5, { omitTiedDecoder: true })
      poke(join(dir, 'model.safetensors'), 'esm.encoder.layer.1.intermediate.dense.weight', { 3: value, 40: value })
      const cache = join(tmp.dir, `cache-${name}`)
      await expect(importEsm2(dir, cache)).rejects.toThrow(
        new RegExp(`model-${name}.*: weight "layer\\.1\\.fc1\\.w" holds ${found} .*the file is damaged`)
      )
      expect(readdirSync(cache).filter(e => e.startsWith('esm2-'))).toEqual([])
    }
  })

  it("removes a killed import's leftovers at the next start, keeping a live process's", async () => {
    const model = join(tmp.dir, 'model-ok')
    writeHfCheckpoint(model, 'tiny', 6, { omitTiedDecoder: true })
    const cache = join(tmp.dir, 'cache-leftovers')
    const first = await importEsm2(model, cache)
    const dead = deadPid()
    const live = process.ppid
    const leftovers = [
      join(cache, `esm2-0123456789abcdef-v2.partial-${dead}`),
      join(cache, `content-hashes.json.${dead}.tmp`),
      join(first.dir, `sae-graph-abc.onnx.${dead}.tmp`)
    ]
    mkdirSync(leftovers[0])
    writeFileSync(join(leftovers[0], 'weights.bin'), Buffer.alloc(1024))
    writeFileSync(leftovers[1], '{')
    writeFileSync(leftovers[2], 'half a graph')
    const running = join(cache, `esm2-fedcba9876543210-v2.partial-${live}`)
    mkdirSync(running)
    const again = await importEsm2(model, cache)
    expect(again.dir).toBe(first.dir)
    for (const p of leftovers) expect(existsSync(p)).toBe(false)
    expect(existsSync(running)).toBe(true)
    expect(cleanModelCache(cache)).toEqual([])
  })

  it('the app removes them when it starts', async () => {
    const dataDir = join(tmp.dir, 'app-data')
    const cache = modelCacheRoot({ PLM_SAE_HOME: dataDir })
    const leftover = join(cache, `esm2-00112233445566778-v2.partial-${deadPid()}`)
    mkdirSync(leftover, { recursive: true })
    const service = await openWorkbench({
      mode: 'browser',
      dataDir,
      resourcesDir: join(__dirname, '..', 'resources'),
      firstRunDemo: false,
      log: () => undefined
    })
    expect(existsSync(leftover)).toBe(false)
    await service.close()
  })
})
