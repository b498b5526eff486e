// Builds installable packages with electron-builder (config: electron-builder.yml) from the electron-vite
// output in out/ (`npm run dist` runs `electron-vite build` first). Arguments go to electron-builder:
//   node scripts/dist.mjs                 packages for this platform (Linux: AppImage + deb)
//   node scripts/dist.mjs --linux dir     an unpacked app in release/<version>/linux-unpacked (quick check)
//   node scripts/dist.mjs --require-cuda  fail unless the Linux x64 package will carry ONNX Runtime's CUDA provider
// Before building it checks what can be checked here and says whether the package carries the CUDA provider.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = dirname(dirname(fileURLToPath(import.meta.url)))
const args = process.argv.slice(2)
const requireCuda = args.includes('--require-cuda')
const builderArgs = args.filter(a => a !== '--require-cuda')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))

function fail(message) {
  console.error(`dist: ${message}`)
  process.exit(1)
}

const main = join(root, pkg.main)
if (!existsSync(main))
  fail(`${pkg.main} does not exist: build the app first (npm run dist runs \`electron-vite build\`).`)

const mb = bytes => `${(bytes / 1e6).toFixed(1)} MB`
const buildsLinux =
  builderArgs.includes('--linux') ||
  (!builderArgs.includes('--win') && !builderArgs.includes('--mac') && process.platform === 'linux')
const buildsX64 = !builderArgs.includes('--arm64')
if (buildsLinux && buildsX64) {
  const dir = join(root, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64')
  const files = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so']
  const present = files.filter(f => existsSync(join(dir, f)))
  if (present.length === files.length) {
    const size = files.reduce((s, f) => s + statSync(join(dir, f)).size, 0)
    console.log(
      `dist: the Linux x64 package carries ONNX Runtime's CUDA provider (${mb(size)}); users install CUDA 12 + cuDNN 9 only.`
    )
  } else {
    const msg =
      "the Linux x64 package will NOT carry ONNX Runtime's CUDA provider (run `npm run setup:cuda` first to include it); " +
      'on NVIDIA machines the app will explain how to add it.'
    if (requireCuda) fail(msg)
    console.warn(`dist: warning: ${msg}`)
  }
}

const builderCli = join(root, 'node_modules/electron-builder/cli.js')
const run = spawnSync(process.execPath, [builderCli, '--config', 'electron-builder.yml', ...builderArgs], {
  cwd: root,
  stdio: 'inherit'
})
if (run.status !== 0) {
  fail(
    `electron-builder failed (exit ${run.status ?? run.signal}). Without internet it cannot download Electron ${pkg.devDependencies.electron}: ` +
      'set ELECTRON_CACHE to a folder holding the Electron zip, or pass -c.electronDist=<unpacked Electron folder>.'
  )
}

const out = join(root, 'release', pkg.version)
if (existsSync(out)) {
  for (const name of readdirSync(out)) {
    const p = join(out, name)
    if (statSync(p).isFile() && /\.(AppImage|deb|exe|dmg)$/.test(name))
      console.log(`dist: ${name}  ${mb(statSync(p).size)}`)
  }
}
