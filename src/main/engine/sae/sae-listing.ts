/**
 * The SAEs a folder (on this computer) or a hub repository (its file list, nothing downloaded) holds, for the
 * picker of the model library (`listHubSaes`) when one place holds several:
 *
 *   - InterProt files `esm2_plm<d>_l<layer>_sae<n>[_k<k>].safetensors` (d, layer, width and k from the name,
 *     by the InterProt provider's own parser);
 *   - SAELens folders (`cfg.json` + `sae_weights.safetensors` per subfolder): on this computer d_in, d_sae, k
 *     and the layer come from each cfg.json; in a hub listing only the names are read, so the layer comes from
 *     a subfolder named after its hook (`blocks.5.hook_resid_post`) and the sizes are unknown;
 *   - any other subfolder a registered provider recognises (sae-formats.ts): on this computer by its probe, in
 *     a hub listing by its file names (the provider's `hubFolder`).
 */
import { readFileSync } from 'node:fs'
import { join, posix } from 'node:path'
import type { SaeListingChoice } from '../../../shared/library-types'
import { probeSae, SAE_FORMATS } from './sae-formats'
import { parseInterprotName } from './sae-interprot'
import { isDir, listDir } from './sae-provider'
import { SAELENS_CONFIG, SAELENS_WEIGHTS, saelensLayerOf } from './sae-saelens'

function interprotChoice(subfolder: string, file: string): SaeListingChoice | undefined {
  if (!file.endsWith('.safetensors')) return undefined
  const named = parseInterprotName(file)
  if (named === undefined) return undefined
  return {
    ...(subfolder ? { subfolder } : {}),
    file,
    format: 'interprot',
    dIn: named.dIn,
    dSae: named.dSae,
    layer: named.layer,
    ...(named.k !== undefined ? { k: named.k } : {})
  }
}

function positiveInt(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined
}

/** A local SAELens folder's choice, from its cfg.json (an unreadable config leaves the sizes unknown). */
function saelensChoice(dir: string, subfolder: string): SaeListingChoice {
  let cfg: Record<string, unknown> = {}
  try {
    cfg = JSON.parse(readFileSync(join(dir, SAELENS_CONFIG), 'utf8')) as Record<string, unknown>
  } catch {
    // sizes unknown; loading it later says what is wrong with the config
  }
  const kwargs = cfg.activation_fn_kwargs as Record<string, unknown> | undefined
  const dIn = positiveInt(cfg.d_in)
  const dSae = positiveInt(cfg.d_sae)
  const layer = saelensLayerOf(cfg.hook_name)
  const k = positiveInt(cfg.k ?? kwargs?.k)
  return {
    ...(subfolder ? { subfolder } : {}),
    format: 'saelens',
    ...(dIn !== undefined ? { dIn } : {}),
    ...(dSae !== undefined ? { dSae } : {}),
    ...(layer !== undefined ? { layer } : {}),
    ...(k !== undefined ? { k } : {})
  }
}

function byPlace(a: SaeListingChoice, b: SaeListingChoice): number {
  return (
    (a.layer ?? -1) - (b.layer ?? -1) ||
    (a.subfolder ?? '').localeCompare(b.subfolder ?? '') ||
    (a.file ?? '').localeCompare(b.file ?? '')
  )
}

/**
 * The SAEs in a folder on this computer (it and its subfolders, `depth` levels down): InterProt files, SAELens
 * folders, and whatever else a registered provider recognises as one SAE. Empty when there are none.
 */
export function listSaesInFolder(root: string, depth = 2): SaeListingChoice[] {
  const out: SaeListingChoice[] = []
  const visit = (subfolder: string, level: number): void => {
    const dir = subfolder ? join(root, ...subfolder.split('/')) : root
    const names = listDir(dir)
    if (names.includes(SAELENS_CONFIG) && names.includes(SAELENS_WEIGHTS)) {
      out.push(saelensChoice(dir, subfolder))
      return
    }
    let interprot = 0
    for (const n of names) {
      const c = isDir(join(dir, n)) ? undefined : interprotChoice(subfolder, n)
      if (c) {
        out.push(c)
        interprot++
      }
    }
    if (interprot > 0) return
    if (subfolder) {
      const [best] = probeSae(dir)
      if (best.probe.confidence > 0.5 && (best.probe.choices ?? []).length === 0) {
        out.push({ subfolder, format: best.provider.id })
        return
      }
    }
    if (level >= depth) return
    for (const n of names) if (isDir(join(dir, n))) visit(subfolder ? `${subfolder}/${n}` : n, level + 1)
  }
  visit('', 0)
  return out.sort(byPlace)
}

/**
 * The SAEs a hub repository's file list names (paths with "/"), without downloading anything: InterProt files
 * (sizes and layer from their names), and each folder a registered provider recognises from its file names
 * (`hubFolder`: SAELens, InterPLM `layer_N`, generic, preprint, dictionary_learning trainer folders).
 */
export function listSaesInRepoFiles(paths: readonly string[]): SaeListingChoice[] {
  const out: SaeListingChoice[] = []
  const filesByFolder = new Map<string, Set<string>>()
  for (const p of paths) {
    const folder = posix.dirname(p) === '.' ? '' : posix.dirname(p)
    const name = posix.basename(p)
    const set = filesByFolder.get(folder) ?? new Set<string>()
    set.add(name)
    filesByFolder.set(folder, set)
    const c = interprotChoice(folder, name)
    if (c) out.push(c)
  }
  const interprotFolders = new Set(out.map(c => c.subfolder ?? ''))
  for (const [folder, names] of filesByFolder) {
    if (interprotFolders.has(folder)) continue
    for (const provider of SAE_FORMATS) {
      const match = provider.hubFolder?.(names, folder)
      if (match === undefined) continue
      out.push({
        ...(folder ? { subfolder: folder } : {}),
        format: provider.id,
        ...(match.layer !== undefined ? { layer: match.layer } : {})
      })
      break
    }
  }
  return out.sort(byPlace)
}
