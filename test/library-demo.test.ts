import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ModelLibrary, DEMO_ESM2_ID, DEMO_SAE_ID } from '../src/main/engine/library/model-library'
import {
  CALIBRATION_SEQUENCES,
  DEMO_SAE_LAYER,
  demoModelPaths,
  readDemoMarker,
  writeDemoEsm2
} from '../src/main/engine/library/demo-models'
import { onnxHiddenRunner } from '../src/main/engine/library/demo-runtime'
import { importEsm2 } from '../src/main/engine/esm/esm2-import'
import { Esm2Model } from '../src/main/engine/esm/esm2-model'
import { tokenize } from '../src/main/engine/esm/alphabet'
import { openSafetensors } from '../src/main/engine/formats/safetensors'
import { loadSae } from '../src/main/engine/sae/sae-load'
import { hubSettings } from '../src/main/engine/hub/hub-api'
import { SettingsStore } from '../src/main/engine/library/app-settings'
import { tempDir } from './helpers/tmp'

const ESM_RESOURCES = fileURLToPath(new URL('../resources/esm/', import.meta.url))

let work: { dir: string; cleanup: () => void }
let lib: ModelLibrary

beforeAll(() => {
  work = tempDir('demo')
  lib = new ModelLibrary({
    dataDir: work.dir,
    hub: hubSettings({ HF_ENDPOINT: 'http://127.0.0.1:9' }),
    demo: { esmResourcesDir: ESM_RESOURCES }
  })
})

afterAll(() => work.cleanup())

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

describe('demo model', () => {
  it('generates a clearly labelled random ESM2-8M checkpoint and preprint SAE that load and run', async () => {
    expect(lib.get(DEMO_ESM2_ID).status).toBe('not-downloaded')
    const e = await lib.download(DEMO_SAE_ID)
    expect(e).toMatchObject({
      status: 'ready',
      demo: true,
      layer: DEMO_SAE_LAYER,
      saeFormat: 'preprint',
      baseModelId: DEMO_ESM2_ID
    })
    const model = lib.get(DEMO_ESM2_ID)
    expect(model).toMatchObject({ status: 'ready', demo: true, name: 'Demo ESM2 (random weights)' })
    expect(model.diskBytes).toBeGreaterThan(29_000_000)
    const { esm2Dir, saeDir } = demoModelPaths(work.dir)
    expect(model.localPath).toBe(esm2Dir)
    expect(readDemoMarker(esm2Dir)).toMatchObject({ demo: true, kind: 'esm2' })
    expect(readDemoMarker(saeDir)).toMatchObject({ demo: true, kind: 'sae' })
    expect(JSON.parse(readFileSync(join(esm2Dir, 'config.json'), 'utf8'))).toMatchObject({
      plm_sae_demo: true,
      model_type: 'esm',
      hidden_size: 320,
      num_hidden_layers: 6
    })
    expect(openSafetensors(join(esm2Dir, 'model.safetensors')).metadata.plm_sae_demo).toBe('random weights')

    // The checkpoint imports as an ESM2-8M shape and runs.
    const imported = await importEsm2(esm2Dir, join(work.dir, 'models'))
    expect(imported.config).toMatchObject({ numLayers: 6, hiddenSize: 320, numHeads: 20, intermediateSize: 1280 })
    expect(imported.hasLmHead).toBe(true)
    const esm = await Esm2Model.open(imported, { device: 'cpu', deviceId: 0, threads: 0 })
    const seq = CALIBRATION_SEQUENCES[0]
    const outs = []
    for await (const o of esm.forward([{ id: 'ubq', tokens: tokenize(seq, 'ubq') }], {
      hidden: [DEMO_SAE_LAYER],
      logits: true
    }))
      outs.push(o)
    const h = outs[0].hidden.get(DEMO_SAE_LAYER)!
    expect(h.length).toBe((seq.length + 2) * 320)
    expect(outs[0].logits!.every(Number.isFinite)).toBe(true)

    // The SAE loads in the preprint format on layer 4, and a few dozen latents fire per residue
    // (computed here in float64 from the file's tensors, independently of the SAE engine).
    const sae = await loadSae(saeDir)
    expect(sae).toMatchObject({ format: 'preprint', dIn: 320, dSae: 2048, layer: 4 })
    const st = openSafetensors(join(saeDir, 'model.safetensors'))
    const W = st.tensors.get('W_enc')!.readFloat32()
    const bEnc = st.tensors.get('b_enc')!.readFloat32()
    const bDec = st.tensors.get('b_dec')!.readFloat32()
    st.close()
    const counts: number[] = []
    for (let r = 1; r <= seq.length; r++) {
      let active = 0
      for (let j = 0; j < 2048; j++) {
        let z = bEnc[j]
        for (let i = 0; i < 320; i++) z += (h[r * 320 + i] - bDec[i]) * W[i * 2048 + j]
        if (z > 0) active++
      }
      counts.push(active)
    }
    const mean = counts.reduce((a, b) => a + b, 0) / counts.length
    expect(mean).toBeGreaterThan(12)
    expect(mean).toBeLessThan(80)
    expect(counts.filter(c => c === 0).length).toBeLessThan(counts.length / 10)
  })

  it('is seeded: generating again gives the same files', () => {
    const other = join(work.dir, 'again')
    writeDemoEsm2(other, ESM_RESOURCES)
    expect(sha(join(other, 'model.safetensors'))).toBe(sha(join(demoModelPaths(work.dir).esm2Dir, 'model.safetensors')))
  })

  it('is the start-up choice when no real model is present, flagged as demo', () => {
    const sel = lib.startupSelection(new SettingsStore(work.dir).load())
    expect(sel.model?.id).toBe(DEMO_ESM2_ID)
    expect(sel.sae?.id).toBe(DEMO_SAE_ID)
    expect(sel.demo).toBe(true)
    expect(typeof onnxHiddenRunner).toBe('function')
  })
})
