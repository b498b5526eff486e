/**
 * `plm-sae serve`: browser mode. Runs the workbench (same engine and API as the desktop app) and serves the
 * built renderer over HTTP, for a headless GPU server reached from a laptop's browser (through an SSH tunnel
 * on 127.0.0.1, or on another address with an access token).
 */
import { Command, InvalidArgumentError } from 'commander'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { resourcesDir } from '../../engine/fs/resources-path'
import { DEFAULT_PORT, generateToken, isLoopbackHost, startHttpServer } from '../../workbench/http-server'
import { openWorkbench } from '../../workbench/service'
import { addRuntimeOptions, helpExample, nonNegativeInt, runtimeFrom, type RuntimeCliOptions } from '../options'

/** The built renderer: `out/renderer` of the nearest project folder above the running code. */
export function findRendererDir(from = dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const candidate = join(dir, 'out', 'renderer')
    if (existsSync(join(candidate, 'index.html'))) return candidate
    if (dirname(dir) === dir) return undefined
  }
}

function port(value: string): number {
  const n = nonNegativeInt('--port')(value)
  if (n > 65535) throw new InvalidArgumentError(`--port must be at most 65535, got ${n}`)
  return n
}

interface ServeOptions extends RuntimeCliOptions {
  port: number
  host: string
  /** A token, "generate", or false for --no-token. */
  token?: string | false
  dataDir?: string
  cacheDir?: string
  staticDir?: string
  demo: boolean
}

export function serveCommand(): Command {
  const cmd = new Command('serve')
    .description('Serve the workbench to a web browser (browser mode): same engine and views as the desktop app')
    .option('--port <port>', `TCP port (0 = any free port)`, port, DEFAULT_PORT)
    .option('--host <address>', 'address to listen on; anything but loopback requires a token', '127.0.0.1')
    .option(
      '--token <token>',
      'access token (at least 16 characters), or "generate"; default $PLM_SAE_TOKEN, else a new random token printed with the address'
    )
    .option(
      '--no-token',
      'no access token: anyone who can reach the port (on loopback: every user of this machine) can use the workbench'
    )
    .option(
      '--data-dir <dir>',
      'app data folder (models, projects, settings); default the platform folder or $PLM_SAE_HOME'
    )
    .option('--static-dir <dir>', 'built renderer to serve (default: out/renderer of this installation)')
    .option('--no-demo', 'do not create and index the demo project on the first start')
  helpExample(
    cmd,
    'plm-sae serve            # then open the printed http://127.0.0.1:… address',
    'plm-sae serve --host 0.0.0.0 --token generate --port 8080'
  )
  addRuntimeOptions(cmd)
  return cmd.action(async (opts: ServeOptions) => {
    // A token by default (generated when none is given), so that other users of a shared machine cannot drive the
    // API through the loopback port; --no-token turns it off explicitly.
    let token = opts.token === false ? undefined : (opts.token ?? process.env.PLM_SAE_TOKEN ?? 'generate')
    if (token === 'generate') token = generateToken()
    const staticDir = opts.staticDir ? resolve(opts.staticDir) : findRendererDir()
    if (!staticDir)
      throw new Error(
        'The web renderer is not built: run `npm run build:web` (or `npx electron-vite build`) in the project folder, or pass --static-dir.'
      )
    if (!isLoopbackHost(opts.host) && !token) {
      throw new Error(
        `--host ${opts.host} makes the workbench reachable from the network, so an access token is required: drop --no-token (a token is then generated), or give --token <secret> (or set PLM_SAE_TOKEN).`
      )
    }
    const here = dirname(fileURLToPath(import.meta.url))
    const service = await openWorkbench({
      mode: 'browser',
      dataDir: opts.dataDir ? resolve(opts.dataDir) : undefined,
      modelCacheDir: opts.cacheDir ? resolve(opts.cacheDir) : undefined,
      resourcesDir: resourcesDir({ isPackaged: false, fromDir: here }),
      runtime: runtimeFrom(opts),
      firstRunDemo: opts.demo,
      log: line => process.stderr.write(`${line}\n`)
    })
    const server = await startHttpServer({
      api: service,
      uploads: service.uploads,
      staticDir,
      host: opts.host,
      port: opts.port,
      token
    })
    process.stdout.write(`PLM-SAE Workbench is serving on ${server.url}\n`)
    if (token)
      process.stdout.write(
        'Open the address above once: the token is then kept in a cookie. API clients send "Authorization: Bearer <token>".\n'
      )
    else process.stdout.write('No access token (--no-token): every user of this machine can use this workbench.\n')
    if (!isLoopbackHost(opts.host))
      process.stdout.write(
        `Listening on ${opts.host}: replace the host in the address with this machine's name or address.\n`
      )
    await new Promise<void>(resolveStop => {
      const stop = (): void => {
        process.off('SIGINT', stop)
        process.off('SIGTERM', stop)
        resolveStop()
      }
      process.on('SIGINT', stop)
      process.on('SIGTERM', stop)
    })
    process.stderr.write('Stopping: cancelling running jobs…\n')
    await server.close()
    await service.close()
  })
}
