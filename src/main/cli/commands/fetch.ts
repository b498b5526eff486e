/** `plm-sae fetch`: downloads a Hugging Face hub repository (or some of its files) into the app's cache. */
import { Command } from 'commander'
import { fetchRepo } from '../../engine/hub/hub-download'
import { hubSettings } from '../../engine/hub/hub-api'
import { checkRepoId, formatBytes } from '../../../shared/library-types'
import { helpExample } from '../options'
import { Reporter } from '../reporter'

function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

export function fetchCommand(): Command {
  const cmd = new Command('fetch')
    .description(
      'Download a model or SAE repository from the Hugging Face hub into the local cache (resumes interrupted downloads, verifies sha256s). Honours HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE and HTTPS_PROXY/HTTP_PROXY/NO_PROXY.'
    )
    .argument('<repo-id>', 'hub repository, e.g. facebook/esm2_t6_8M_UR50D or Elana/InterPLM-esm2-8m')
    .option('--revision <rev>', 'branch, tag or commit sha', 'main')
    .option(
      '--include <glob>',
      'only files matching this pattern (repeatable), e.g. --include "layer_4/*"',
      collect,
      [] as string[]
    )
    .option('--cache-dir <dir>', 'hub cache folder (default: hub/ in the app data folder, or $PLM_SAE_HOME/hub)')
    .option('--offline', 'do not use the network: report what is cached')
    .option('--json', 'print the result as JSON on stdout')
    .action(
      async (
        repo: string,
        opts: { revision: string; include: string[]; cacheDir?: string; offline?: boolean; json?: boolean }
      ) => {
        const bad = checkRepoId(repo)
        if (bad) throw new Error(bad)
        const log = new Reporter(Boolean(opts.json))
        const settings = hubSettings()
        const ctl = new AbortController()
        const onSigint = (): void => ctl.abort()
        process.once('SIGINT', onSigint)
        let currentFile = ''
        try {
          const r = await fetchRepo(repo, {
            revision: opts.revision,
            include: opts.include.length > 0 ? opts.include : undefined,
            cacheRoot: opts.cacheDir,
            settings,
            offline: opts.offline,
            signal: ctl.signal,
            onProgress: p => {
              if (p.phase !== 'downloading') return
              if (p.file !== currentFile) {
                currentFile = p.file
                log.line(`[${p.fileIndex + 1}/${p.fileCount}] ${p.file}`)
              }
              const eta = p.etaSeconds === null ? '?' : `${p.etaSeconds} s`
              log.progress(
                `${p.file} [${p.fileIndex + 1}/${p.fileCount}] ${formatBytes(p.bytesPerSecond)}/s, ETA ${eta}`,
                p.bytesDone,
                p.bytesTotal
              )
            }
          })
          log.done()
          const total = r.files.reduce((n, f) => n + f.size, 0)
          if (opts.json) {
            process.stdout.write(
              `${JSON.stringify({ repo: r.repo, revision: r.revision, sha: r.sha, dir: r.dir, fromCache: r.fromCache, handPlaced: r.handPlaced, downloadedBytes: r.downloadedBytes, files: r.files.map(f => ({ path: f.path, size: f.size, sha256: f.lfsSha256, localPath: f.localPath })) }, null, 2)}\n`
            )
          } else {
            const how = r.fromCache
              ? r.handPlaced
                ? 'found (placed by hand, not verified)'
                : 'found in the cache'
              : `downloaded ${formatBytes(r.downloadedBytes)}`
            process.stdout.write(
              `${r.repo}@${r.revision} (${r.sha.slice(0, 12)}): ${r.files.length} files, ${formatBytes(total)}, ${how}\n${r.dir}\n`
            )
          }
        } finally {
          process.off('SIGINT', onSigint)
        }
      }
    )
  return helpExample(
    cmd,
    'plm-sae fetch facebook/esm2_t6_8M_UR50D',
    'plm-sae fetch Elana/InterPLM-esm2-8m --include "layer_4/*"'
  )
}
