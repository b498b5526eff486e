/** Runs the `plm-sae` command line in this process, capturing what it writes to stdout and stderr. */
import { vi } from 'vitest'
import { main } from '../../src/main/cli/plm-sae'

export async function runCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true))
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true))
  try {
    const code = await main(args)
    return { code, out, err }
  } finally {
    o.mockRestore()
    e.mockRestore()
  }
}
