/** The `plm-sae` command-line tool. Each command lives in commands/ and is a thin layer over the engine. */
import { Command, CommanderError } from 'commander'
import { inferCommand } from './commands/infer'
import { importCommand } from './commands/import'
import { deviceCommand } from './commands/device'
import { fetchCommand } from './commands/fetch'
import { steerCommand } from './commands/steer'
import { serveCommand } from './commands/serve'
import { indexCommand } from './commands/index'
import { markRequiredOptions } from './options'

export function buildProgram(): Command {
  const program = new Command('plm-sae')
    .description('PLM-SAE Workbench on the command line: run ESM2 protein language models and sparse autoencoders locally.')
    .version(process.env.PLM_SAE_VERSION ?? '0.1.0')
    .showHelpAfterError('(run with --help for usage)')
  program.addCommand(inferCommand())
  program.addCommand(importCommand())
  program.addCommand(deviceCommand())
  program.addCommand(fetchCommand())
  program.addCommand(steerCommand())
  program.addCommand(serveCommand())
  program.addCommand(indexCommand())
  markRequiredOptions(program)
  return program
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram()
  program.exitOverride()
  program.commands.forEach((c) => c.exitOverride())
  try {
    await program.parseAsync(argv, { from: 'user' })
    return 0
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode
    process.stderr.write(`plm-sae: error: ${(e as Error).message}\n`)
    if (process.env.PLM_SAE_DEBUG) process.stderr.write(`${(e as Error).stack}\n`)
    return 1
  }
}
