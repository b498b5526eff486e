/**
 * A second process on a store, for the concurrency tests. argv: mode db [arg]
 *   labels db ms     edits feature labels as fast as it can for `ms` milliseconds, then prints how many
 *   lock db          takes the store's writer lock (as an indexer would), prints "locked", and holds it until killed
 * Prints "ready" before it starts.
 */
import { LatentStore } from '../../src/main/engine/store/latent-store'
import { acquireWriterLock } from '../../src/main/engine/store/store-lock'

const [mode, db, arg] = process.argv.slice(2)
const store = LatentStore.open(db)
if (mode === 'labels') {
  const until = Date.now() + Number(arg)
  process.stdout.write('ready\n')
  let n = 0
  while (Date.now() < until) {
    store.setFeatureLabel({ feature: n % 8, label: `edit ${n}` })
    n++
  }
  store.close()
  process.stdout.write(`edits ${n}\n`)
} else if (mode === 'lock') {
  acquireWriterLock(store, 'plm-sae index --input other.fasta (test holder)')
  process.stdout.write('locked\n')
  setInterval(() => undefined, 1000)
}
