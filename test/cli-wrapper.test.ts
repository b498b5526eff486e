/**
 * bin/plm-sae.js under a system Node older than 22 starts the bundled Node 22 as a child. Signals reach the
 * child, and when the wrapper is killed with SIGKILL (nothing can be forwarded) the child stops by itself
 * instead of running on. Runs where such an older `node` is on PATH (the dev machines and CI images have
 * Node 20); skipped, saying so, where there is none.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDir } from './helpers/tmp'

const ROOT = join(__dirname, '..')
const tmp = tempDir('cli-wrapper')
const started: number[] = []
afterAll(() => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      /* gone */
    }
  }
  tmp.cleanup()
})

function olderNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node', '/bin/node']) {
    if (!existsSync(candidate)) continue
    try {
      const v = execFileSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim()
      if (Number(v.split('.')[0]) < 22) return candidate
    } catch {
      /* not runnable */
    }
  }
  return undefined
}

const OLD_NODE = olderNode()
const BUILT = existsSync(join(ROOT, 'dist', 'cli.mjs'))

function childrenOf(pid: number): number[] {
  const out: number[] = []
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === pid) out.push(Number(e))
    } catch {
      /* exited meanwhile */
    }
  }
  return out
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(r => setTimeout(r, 50))
  }
}

function startServe(): { wrapper: ChildProcess; out: () => string } {
  const wrapper = spawn(
    OLD_NODE!,
    [
      join(ROOT, 'bin', 'plm-sae.js'),
      'serve',
      '--port',
      '0',
      '--no-demo',
      '--data-dir',
      join(tmp.dir, `data-${started.length}`)
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe']
    }
  )
  started.push(wrapper.pid!)
  let out = ''
  wrapper.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  wrapper.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  return { wrapper, out: () => out }
}

describe.skipIf(!OLD_NODE || !BUILT)(`bin/plm-sae.js on Node < 22 (${OLD_NODE ?? 'none on this machine'})`, () => {
  it('the Node 22 child stops when the wrapper is killed with SIGKILL', async () => {
    const { wrapper, out } = startServe()
    await until('the server to start', () => /serving on/.test(out()))
    const [child] = childrenOf(wrapper.pid!)
    expect(child).toBeGreaterThan(0)
    started.push(child)
    wrapper.kill('SIGKILL')
    await until('the orphaned child to stop', () => !alive(child))
  })

  it('forwards SIGTERM to the child and exits with its status', async () => {
    const { wrapper, out } = startServe()
    await until('the server to start', () => /serving on/.test(out()))
    const [child] = childrenOf(wrapper.pid!)
    started.push(child)
    const code = new Promise<number | null>(r => wrapper.once('exit', c => r(c)))
    wrapper.kill('SIGTERM')
    expect(await code).toBe(0) // serve stops cleanly on SIGTERM
    await until('the child to stop', () => !alive(child))
  })
})
