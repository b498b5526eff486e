/** The `plm-sae` command-line tool. Each command lives in commands/ and is a thin layer over the engine. */
import { Command, CommanderError } from 'commander'
import { inferCommand } from './commands/infer'
import { importCommand } from './commands/import'
import { deviceCommand } from './commands/device'
import { fetchCommand } from './commands/fetch'
import { steerCommand } from './commands/steer'
import { serveCommand } from './commands/serve'
import { indexCommand } from './commands/index-command'
import { mergeCommand } from './commands/merge'
import { clusterCommand } from './commands/cluster'
import { experimentCommand } from './commands/experiment'
import { annotateCommand } from './commands/annotate'
import { checkSaeCommand } from './commands/check-sae'
import { convertSaeCommand } from './commands/convert-sae'
import { markRequiredOptions } from './options'
import { invalidRequestMessage, ValidationError } from '../../shared/schema'

export function buildProgram(): Command {
  const program = new Command('plm-sae')
    .description(
      'PLM-SAE Workbench on the command line: run ESM2 protein language models and sparse autoencoders locally.'
    )
    .version(process.env.PLM_SAE_VERSION ?? '0.1.0')
    .showHelpAfterError('(run with --help for usage)')
  for (const command of [
    inferCommand(),
    importCommand(),
    deviceCommand(),
    fetchCommand(),
    steerCommand(),
    serveCommand(),
    indexCommand(),
    mergeCommand(),
    clusterCommand(),
    experimentCommand(),
    annotateCommand(),
    checkSaeCommand(),
    convertSaeCommand()
  ])
    program.addCommand(command)
  markRequiredOptions(program)
  return program
}

export async function main(argv: string[]): Promise<number> {
  process.exitCode = undefined
  const program = buildProgram()
  program.exitOverride()
  program.commands.forEach(c => c.exitOverride())
  try {
    await program.parseAsync(argv, { from: 'user' })
    // A command's own status (130 after Ctrl-C, 3 for warnings) is kept: the entry point sets process.exitCode from this.
    return typeof process.exitCode === 'number' ? process.exitCode : 0
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode
    process.stderr.write(
      `plm-sae: error: ${e instanceof ValidationError ? invalidRequestMessage(e) : (e as Error).message}\n`
    )
    if (process.env.PLM_SAE_DEBUG) process.stderr.write(`${(e as Error).stack}\n`)
    return 1
  }
}
