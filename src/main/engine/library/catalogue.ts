/**
 * The built-in catalogue: the published ESM2 models and the SAEs trained on ESM2-8M that the app knows how
 * to read. Layer numbers are Hugging Face hidden_states indices (0 = embeddings, L = output of block L).
 */
import type { LibraryEntryKind, SaeFileFormat } from '../../../shared/library-types'

export interface CatalogueEntry {
  id: string
  kind: LibraryEntryKind
  name: string
  description: string
  repo: string
  revision: string
  subfolder?: string
  /** One file of the repository, downloaded alone (an InterProt SAE). */
  file?: string
  saeFormat?: SaeFileFormat
  /** For an SAE whose files do not store k (InterProt): the latents kept per row. */
  saeK?: number
  layer?: number
  baseModelId?: string
  numLayers?: number
  hiddenSize?: number
  /** Approximate download size (model.safetensors + small files). */
  expectedBytes?: number
}

export const ESM2_8M_ID = 'hub:facebook/esm2_t6_8M_UR50D'
export const PREPRINT_SAE_ID = 'hub:evillegasgarcia/sae_esm2_6_l3'
export const ESM2_650M_ID = 'hub:facebook/esm2_t33_650M_UR50D'

/** Library id of a hub entry: `hub:owner/name[/subfolder][@revision]` (revision only when not main). */
export function hubEntryId(repo: string, subfolder?: string, revision = 'main'): string {
  return `hub:${repo}${subfolder ? `/${subfolder}` : ''}${revision !== 'main' ? `@${revision}` : ''}`
}

function esm2(repo: string, layers: number, hidden: number, params: string, bytes: number): CatalogueEntry {
  return {
    id: hubEntryId(repo),
    kind: 'esm2',
    name: `ESM2 ${params}`,
    description: `Meta's ESM2 protein language model, ${params} parameters: ${layers} layers, hidden size ${hidden} (${repo}).`,
    repo,
    revision: 'main',
    numLayers: layers,
    hiddenSize: hidden,
    expectedBytes: bytes
  }
}

/** InterPLM's SAEs of one ESM2 size: one `layer_N` folder per layer of the hub repository. */
function interplmSaes(size: '8M' | '650M', layers: number[], baseModelId: string): CatalogueEntry[] {
  const repo = `Elana/InterPLM-esm2-${size.toLowerCase()}`
  return layers.map(layer => ({
    id: hubEntryId(repo, `layer_${layer}`),
    kind: 'sae',
    name: `InterPLM SAE, ESM2-${size} layer ${layer}`,
    description: `InterPLM's sparse autoencoder on layer ${layer} of ESM2-${size} (Simon & Zou 2024; ${repo}, folder layer_${layer}).`,
    repo,
    revision: 'main',
    subfolder: `layer_${layer}`,
    saeFormat: 'interplm',
    layer,
    baseModelId
  }))
}

const interplm = interplmSaes('8M', [1, 2, 3, 4, 5, 6], ESM2_8M_ID)
const interplm650m = interplmSaes('650M', [1, 9, 18, 24, 30, 33], ESM2_650M_ID)

/**
 * InterProt's ESM2-650M SAEs (liambai/InterProt-ESM2-SAEs, one safetensors file each, 4,096 latents): the layer
 * sweep was trained with k = 64 (`_k64_auxk640` in the authors' run names); the layer-24 SAE of the InterProt
 * viewer does not say its k, so the loader's default (128, the authors' own) is used and reported.
 */
const interprot: CatalogueEntry[] = [4, 8, 12, 16, 20, 24, 28, 32, 33].map(layer => {
  const file = layer === 24 ? 'esm2_plm1280_l24_sae4096_100k.safetensors' : `esm2_plm1280_l${layer}_sae4096.safetensors`
  return {
    id: `${hubEntryId('liambai/InterProt-ESM2-SAEs')}/${file}`,
    kind: 'sae',
    name: `InterProt SAE, ESM2-650M layer ${layer}`,
    description: `InterProt's top-k sparse autoencoder (4,096 latents${layer === 24 ? '' : ', k = 64'}) on layer ${layer} of ESM2-650M (liambai/InterProt-ESM2-SAEs, ${file}).`,
    repo: 'liambai/InterProt-ESM2-SAEs',
    revision: 'main',
    file,
    saeFormat: 'interprot',
    ...(layer === 24 ? {} : { saeK: 64 }),
    layer,
    baseModelId: ESM2_650M_ID
  }
})

export const CATALOGUE: readonly CatalogueEntry[] = [
  esm2('facebook/esm2_t6_8M_UR50D', 6, 320, '8M', 31_400_000),
  esm2('facebook/esm2_t12_35M_UR50D', 12, 480, '35M', 136_000_000),
  esm2('facebook/esm2_t30_150M_UR50D', 30, 640, '150M', 595_000_000),
  esm2('facebook/esm2_t33_650M_UR50D', 33, 1280, '650M', 2_610_000_000),
  // Sharded on the hub (an index + model-0000k-of-0000n shards); fetched and imported as one checkpoint.
  esm2('facebook/esm2_t36_3B_UR50D', 36, 2560, '3B', 11_400_000_000),
  {
    id: PREPRINT_SAE_ID,
    kind: 'sae',
    name: 'Preprint SAE, ESM2-8M layer 4',
    description:
      'The sparse autoencoder of "Interpreting and Steering Protein Language Models through Sparse Autoencoders" (evillegasgarcia/sae_esm2_6_l3): reads the output of block 3 of ESM2-8M, i.e. layer 4.',
    repo: 'evillegasgarcia/sae_esm2_6_l3',
    revision: 'main',
    saeFormat: 'preprint',
    layer: 4,
    baseModelId: ESM2_8M_ID
  },
  ...interplm,
  ...interplm650m,
  ...interprot
]

/**
 * Published sha256s of real model files (from the hub), by repository and path. A file that differs is
 * flagged: these are not the published weights (another endpoint, a mirror, or a file placed by hand).
 */
export const KNOWN_FILES: Record<string, Record<string, { size: number; sha256: string }>> = {
  'facebook/esm2_t6_8M_UR50D': {
    'model.safetensors': {
      size: 31_384_292,
      sha256: '24c5fa474c48f3b754b86efe752d5f189d2bcd88190fa2270fc92b2ef3034189'
    },
    'pytorch_model.bin': {
      size: 31_406_877,
      sha256: '9edcf393212f3a26684cd68ca8095ec43c2c341ee0fcc3ba7a4d3a47c5dc138f'
    }
  }
}
