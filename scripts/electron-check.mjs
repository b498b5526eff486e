// `npm start` runs this before `electron-vite preview`: Electron's binary must be there. It is fetched on the
// first start (electron's own installer); when that cannot happen (no internet, a blocked download), this says
// what to do instead of Electron's stack trace, and exits with 1.
// PLM_SAE_ELECTRON_NO_DOWNLOAD=1 skips the download attempt (tests).
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pkg = join(root, 'node_modules', 'electron')

function binary() {
  const pathFile = join(pkg, 'path.txt')
  if (!existsSync(pathFile)) return undefined
  const bin = join(process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(pkg, 'dist'), readFileSync(pathFile, 'utf8').trim())
  return existsSync(bin) ? bin : undefined
}

if (!existsSync(pkg)) {
  process.stderr.write(
    'npm start: Electron is not installed (node_modules/electron is missing). Run `npm install` first.\n'
  )
  process.exit(1)
}
if (!binary()) {
  let why = 'the download was skipped'
  if (process.env.PLM_SAE_ELECTRON_NO_DOWNLOAD !== '1') {
    process.stdout.write("Electron's binary is not installed yet: downloading it (once, about 100 MB)…\n")
    const r = spawnSync(process.execPath, [join(pkg, 'install.js')], {
      cwd: pkg,
      encoding: 'utf8',
      stdio: ['ignore', 'inherit', 'pipe']
    })
    const firstLine = (r.stderr ?? '').split('\n').find(l => l.trim() !== '') ?? ''
    why = firstLine.replace(/^Error:\s*/, '') || `the installer exited with ${r.status}`
  }
  if (!binary()) {
    process.stderr.write(
      [
        '',
        `npm start needs Electron's binary, and it is not there (${why}).`,
        'Either:',
        '  - let Electron download it: run `npm start` again with internet access, or point ELECTRON_MIRROR at a',
        '    reachable mirror, or ELECTRON_OVERRIDE_DIST_PATH at an Electron folder you already have; or',
        '  - use the workbench in your web browser instead (same views, no Electron needed):',
        '      npx plm-sae serve',
        '    and open the address it prints.',
        ''
      ].join('\n')
    )
    process.exit(1)
  }
}
