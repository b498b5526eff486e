/** Shared by the benchmark scripts: numeric `--name value` arguments and the benchmark data set. */
import { join } from 'node:path'

/** The throughput benchmark set: 20,000 UniProt sequences beside the repository (../shared/data). */
export const UNIPROT_20K = join(import.meta.dirname, '..', '..', 'shared', 'data', 'sequences', 'uniprot-20k.fasta.gz')

/** The number after `--name` on the command line, or `fallback`; a negative or non-numeric value is an error. */
export function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  if (i < 0) return fallback
  const v = Number(process.argv[i + 1])
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} needs a number, got ${process.argv[i + 1]}`)
  return v
}
