/** Runs `plm-sae experiment` (argv after the script) in a child process, so that a test can kill -9 it mid-way. */
import { main } from '../../src/main/cli/plm-sae'

main(process.argv.slice(2)).then(code => process.exit(code))
