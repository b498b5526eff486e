/**
 * A `LatentSource` without a model, for tests of the job and store around it: each residue fires
 * `perResidue` features chosen from its token and position (values from the definition below), or none at all
 * (`mode: 'dead'`, what NaN weights give), or every feature (`mode: 'dense'`). `delayMs` sleeps after each
 * protein so a test can act while the job runs.
 */
import type { LatentSource } from '../../src/main/engine/sae/latent-source'
import type { SparseLatents } from '../../src/main/engine/sae/sparse-latents'

export interface SyntheticSourceOptions {
  dSae?: number
  layer?: number
  perResidue?: number
  mode?: 'sparse' | 'dead' | 'dense'
  delayMs?: number
  maxActivePerResidue?: number
  /** Called after each protein's latents were handed out. */
  onProtein?: (n: number) => void
}

export function syntheticSource(o: SyntheticSourceOptions = {}): LatentSource {
  const dSae = o.dSae ?? 64
  const per = o.mode === 'dense' ? dSae : o.mode === 'dead' ? 0 : Math.min(dSae, o.perResidue ?? 3)
  let n = 0
  return {
    dSae,
    layer: o.layer ?? 1,
    maxActivePerResidue: o.maxActivePerResidue,
    close: async () => {},
    async *extract(inputs, opts) {
      for await (const input of inputs) {
        if (opts?.signal?.aborted) throw new Error('cancelled')
        const rows = input.tokens.length - 2
        const indptr = new Uint32Array(rows + 1)
        const features = new Uint32Array(rows * per)
        const values = new Float32Array(rows * per)
        for (let r = 0; r < rows; r++) {
          const first = (input.tokens[r + 1] * 7 + r) % dSae
          const picked = Array.from({ length: per }, (_, k) => (first + k) % dSae).sort((a, b) => a - b)
          for (let k = 0; k < per; k++) {
            features[r * per + k] = picked[k]
            values[r * per + k] = 1 + ((r + k) % 5) / 4
          }
          indptr[r + 1] = (r + 1) * per
        }
        const latents: SparseLatents = { id: input.id, rows, width: dSae, indptr, features, values }
        if (o.delayMs) await new Promise(res => setTimeout(res, o.delayMs))
        yield latents
        o.onProtein?.(++n)
      }
    }
  }
}
