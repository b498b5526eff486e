/**
 * What an SAE format provider is (one module per published format, listed by the registry in
 * sae-formats.ts; Mol*'s format providers are the model): it recognises a path from its files and tensor
 * names with a confidence, loads it into the canonical `SaeWeights`, and describes itself for the README,
 * `--help`, the library and error messages.
 */
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { openSafetensors } from '../formats/safetensors'
import type { TensorArchive } from '../formats/tensor-archive'
import { openTorchCheckpoint } from '../formats/torch-checkpoint'
import type { SaeFormat, SaeWeights } from './sae-weights'

/** One SAE inside a folder that holds several. */
export interface SaeChoice {
  /** Its path (a file or a folder inside the folder probed). */
  path: string
  /** How to name it to `--sae-file` (the path relative to the folder). */
  file: string
  /** The model layer it reads, when its name or files say. */
  layer?: number
}

export interface SaeProbe {
  /** 0: not this format; 1: certain. A provider that sees part of its layout answers in between. */
  confidence: number
  /** What the provider saw that it cares about (files, tensor names and shapes), for the no-match error. */
  found: string
  /** The path is a folder holding several SAEs of this format: which ones. */
  choices?: SaeChoice[]
}

export interface SaeLoadOptions {
  /** The model layer wanted (picks `layer_N` in InterPLM's top folder, a layer in an InterProt folder, ...). */
  layer?: number
  /** InterProt: the number of latents kept per row (overrides the file name, the library entry and the default). */
  k?: number
  /** InterProt: k from the library entry, used when the file name does not say. */
  libraryK?: number
  /** For an InterPLM folder holding both files: which one (default 'normalized'). */
  interplmVariant?: 'normalized' | 'unnormalized'
}

export interface SaeFormatProvider {
  readonly id: SaeFormat
  /** Display name, e.g. "InterProt". */
  readonly name: string
  /** Where the format comes from (a repository or hub page). */
  readonly origin: string
  /** The files it reads, e.g. "`cfg.json` + `sae_weights.safetensors`". */
  readonly files: string
  /** The architectures it reads, e.g. "standard (ReLU), topk, jumprelu". */
  readonly architectures: string
  /** Looks at a file or a folder; never throws (an unreadable file is a `found` of its own). */
  probe(path: string): SaeProbe
  /**
   * Recognises one SAE of this format in a hub repository's folder from its file names alone (nothing is
   * downloaded; the SAE picker's listing, sae-listing.ts), with the layer when the folder's name says it.
   */
  hubFolder?(names: ReadonlySet<string>, folder: string): { layer?: number } | undefined
  /** Loads one SAE (a path whose probe has no choices). */
  load(path: string, opts: SaeLoadOptions): SaeWeights
}

export const NOT_THIS: SaeProbe = { confidence: 0, found: 'nothing of its layout' }

export function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}

export function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort()
  } catch {
    return []
  }
}

export function has(dir: string, file: string): boolean {
  return existsSync(join(dir, file))
}

/** Opens a safetensors file or a torch zip pickle by its name. */
export function openTensorFile(path: string): TensorArchive {
  return path.endsWith('.safetensors') ? openSafetensors(path) : openTorchCheckpoint(path)
}

/** "name [shape], ..." of an archive's tensors (the first `max`). */
export function tensorSummary(tensors: ReadonlyMap<string, { shape: readonly number[] }>, max = 10): string {
  const all = [...tensors.entries()]
  const shown = all.slice(0, max).map(([n, t]) => `${n} [${t.shape.join(', ')}]`)
  if (all.length > max) shown.push(`… ${all.length - max} more`)
  return shown.length > 0 ? shown.join(', ') : 'no tensors'
}

/**
 * Tensor names and shapes of a weight file, or the reason it cannot be read; `found` says either in a line
 * (`tensorSummary` of the shapes, or the error), for a probe's report.
 */
export function peekTensors(path: string): { tensors?: Map<string, readonly number[]>; error?: string; found: string } {
  try {
    const a = openTensorFile(path)
    try {
      return {
        tensors: new Map([...a.tensors.entries()].map(([n, t]) => [n, t.shape])),
        found: tensorSummary(a.tensors)
      }
    } finally {
      a.close()
    }
  } catch (e) {
    return { error: (e as Error).message, found: (e as Error).message }
  }
}
