/**
 * `plm-sae convert-sae --sae S --out DIR`: writes any SAE the registry reads in the generic layout
 * (sae.json + sae.safetensors, float32), exactly: loading DIR gives the same encoder and decoder.
 */
import { Command } from 'commander'
import { existsSync } from 'node:fs'
import { saveGenericSae } from '../../engine/sae/sae-generic'
import { loadSae } from '../../engine/sae/sae-load'
import { describeEncoder } from '../../engine/sae/sae-weights'
import { addSaeOptions, saeLoadOptions, type SaeCliOptions, helpExample } from '../options'

export function convertSaeCommand(): Command {
  const cmd = new Command('convert-sae')
    .description('Write an SAE of any supported format in the generic layout (sae.json + sae.safetensors), exactly')
    .requiredOption('--out <dir>', 'the folder to write (must not exist yet)')
  addSaeOptions(cmd, true)
  helpExample(
    cmd,
    'plm-sae convert-sae --sae liambai/esm2_plm1280_l24_sae4096_k64.safetensors --out saes/interprot-l24-generic'
  )
  return cmd.action(async (opts: SaeCliOptions & { out: string }) => {
    if (existsSync(opts.out)) throw new Error(`${opts.out} already exists; choose a new folder`)
    const sae = await loadSae(opts.sae as string, saeLoadOptions(opts))
    saveGenericSae(sae, opts.out)
    process.stdout.write(
      `${sae.name} (${sae.format}${sae.architecture ? `, ${sae.architecture}` : ''}; ${sae.dIn} → ${sae.dSae}, ${describeEncoder(sae)}${sae.layer !== undefined ? `, layer ${sae.layer}` : ''}) written to ${opts.out}\n`
    )
    for (const n of sae.notes ?? []) process.stdout.write(`note: ${n}\n`)
  })
}
