/**
 * The registry of SAE format providers (sae-provider.ts): the one list of the formats PLM-SAE Workbench
 * reads. The loader, the model library, the CLI's `--help`, the app and the README's format table all derive
 * from it; add a format by writing its provider and listing it here.
 */
import { dictionaryLearningProvider } from './sae-dictionary-learning'
import { genericProvider } from './sae-generic'
import { interplmProvider } from './sae-interplm'
import { interprotProvider } from './sae-interprot'
import { preprintProvider } from './sae-preprint'
import type { SaeFormatProvider, SaeProbe } from './sae-provider'
import { saelensProvider } from './sae-saelens'
import type { SaeFormat } from './sae-weights'

/** In order of precedence when two providers are equally sure. */
export const SAE_FORMATS: readonly SaeFormatProvider[] = [
  genericProvider,
  preprintProvider,
  interplmProvider,
  interprotProvider,
  saelensProvider,
  dictionaryLearningProvider
]

export function saeFormatProvider(id: SaeFormat): SaeFormatProvider {
  const p = SAE_FORMATS.find(f => f.id === id)
  if (p === undefined) throw new Error(`internal: no SAE format "${id}"`)
  return p
}

export interface ProbeResult {
  provider: SaeFormatProvider
  probe: SaeProbe
}

/** Every provider's view of `path`, the most confident first. */
export function probeSae(path: string): ProbeResult[] {
  const results = SAE_FORMATS.map(provider => {
    let probe: SaeProbe
    try {
      probe = provider.probe(path)
    } catch (e) {
      probe = { confidence: 0, found: `cannot read: ${(e as Error).message}` }
    }
    return { provider, probe }
  })
  return results.sort((a, b) => b.probe.confidence - a.probe.confidence)
}

/** The format of `path` when a provider recognises it. */
export function detectSaeFormat(path: string): SaeFormat | undefined {
  const best = probeSae(path)[0]
  return best.probe.confidence > 0.5 ? best.provider.id : undefined
}

/** One line per format: for --help and error messages. */
export function formatsSummary(): string {
  return SAE_FORMATS.map(f => `${f.name}: ${f.files.replace(/`/g, '')}`).join('; ')
}

/** The README's table of formats (checked against the README by a test). */
export function formatsMarkdownTable(): string {
  const rows = SAE_FORMATS.map(f => `| ${f.name} | \`${f.id}\` | ${f.files} | ${f.architectures} | ${f.origin} |`)
  return ['| Format | id | Files | Architectures | From |', '| --- | --- | --- | --- | --- |', ...rows].join('\n')
}
