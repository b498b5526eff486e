/**
 * Browser mode (`plm-sae serve`): "Upload a folder" adds a model or SAE folder of the user's computer to the
 * server's library. The browser reads the folder (`<input type="file" webkitdirectory>`), keeps the files a
 * model or SAE format uses (`uploadPathProblem`), sends them with progress (api/upload.ts), and then asks the
 * server to register them (`addUploadedModel`). No path of the server is ever sent.
 */
import { useState, type ReactNode } from 'react'
import { api } from '@renderer/api'
import { newUploadId, uploadFolder, type UploadFile, type UploadProgress } from '@renderer/api/upload'
import { formatBytes, MAX_UPLOAD_FILE_BYTES, uploadPathProblem, type LibraryEntryKind } from '@shared/library-types'
import { formatDuration, ProgressBar } from './progress-bar'

interface ChosenFolder {
  name: string
  files: UploadFile[]
  /** Files left out, with why. */
  skipped: string[]
}

/** The files of a chosen folder, paths relative to it, split into those to send and those left out. */
export function chooseFolderFiles(list: ArrayLike<File>): ChosenFolder {
  const files: UploadFile[] = []
  const skipped: string[] = []
  let name = ''
  for (const file of Array.from(list)) {
    const parts = (file.webkitRelativePath || file.name).split('/')
    if (parts.length > 1) name ||= parts[0]
    const path = parts.length > 1 ? parts.slice(1).join('/') : parts[0]
    if (parts.some(p => p.startsWith('.'))) continue // hidden files (.DS_Store, .git): never model files
    const problem =
      uploadPathProblem(path) ??
      (file.size > MAX_UPLOAD_FILE_BYTES ? `larger than ${formatBytes(MAX_UPLOAD_FILE_BYTES)}` : undefined)
    if (problem) skipped.push(`${path} (${problem})`)
    else files.push({ path, file })
  }
  return { name, files, skipped }
}

export function FolderUpload({ run }: { run(f: () => Promise<unknown>): void }): ReactNode {
  const [kind, setKind] = useState<LibraryEntryKind>('esm2')
  const [layer, setLayer] = useState('')
  const [name, setName] = useState('')
  const [folder, setFolder] = useState<ChosenFolder>()
  const [progress, setProgress] = useState<UploadProgress>()
  const [busy, setBusy] = useState(false)
  /** Changed after an upload, so that the file input starts empty again. */
  const [inputKey, setInputKey] = useState(0)
  const layerNumber = /^\d+$/.test(layer) ? Number(layer) : undefined
  const total = folder?.files.reduce((s, f) => s + f.file.size, 0) ?? 0

  const upload = (): void => {
    if (!folder) return
    setBusy(true)
    run(async () => {
      const uploadId = newUploadId()
      try {
        await uploadFolder(uploadId, folder.files, setProgress)
        await api.addUploadedModel({
          uploadId,
          kind,
          name: name.trim() || folder.name || undefined,
          ...(kind === 'sae' && layerNumber !== undefined ? { layer: layerNumber } : {})
        })
        setFolder(undefined)
        setName('')
        setInputKey(k => k + 1)
      } finally {
        setBusy(false)
        setProgress(undefined)
      }
    })
  }

  return (
    <details className="subpanel" data-testid="folder-upload">
      <summary>Upload a folder…</summary>
      <p className="muted">
        A model or SAE folder of this computer (config.json, *.safetensors, *.bin, *.pt, cfg.json, vocab.txt, …) is sent
        to the workbench server and kept in its library.
      </p>
      <div className="form-row">
        <label>
          Kind
          <select value={kind} onChange={e => setKind(e.target.value as LibraryEntryKind)} disabled={busy}>
            <option value="esm2">ESM2 model</option>
            <option value="sae">SAE</option>
          </select>
        </label>
        <label>
          Folder{' '}
          <input
            type="file"
            key={inputKey}
            data-testid="folder-upload-input"
            ref={el => el?.setAttribute('webkitdirectory', '')}
            multiple
            disabled={busy}
            onChange={e => {
              const chosen = e.target.files ? chooseFolderFiles(e.target.files) : undefined
              setFolder(chosen)
              if (chosen?.name && !name) setName(chosen.name)
            }}
          />
        </label>
        <label>
          Name <input value={name} onChange={e => setName(e.target.value)} maxLength={200} disabled={busy} />
        </label>
        {kind === 'sae' && (
          <label>
            Layer{' '}
            <input
              value={layer}
              onChange={e => setLayer(e.target.value)}
              inputMode="numeric"
              size={3}
              disabled={busy}
            />
          </label>
        )}
        <button onClick={upload} disabled={busy || !folder || folder.files.length === 0}>
          Upload and add
        </button>
      </div>
      {folder && (
        <p className="small" data-testid="folder-upload-summary">
          {folder.files.length} file{folder.files.length === 1 ? '' : 's'} to send ({formatBytes(total)})
          {folder.files.length === 0 && ': none of them is a model or SAE file'}
          {folder.skipped.length > 0 && `; left out: ${folder.skipped.join(', ')}`}
        </p>
      )}
      {progress && (
        <ProgressBar
          done={progress.bytesDone}
          total={progress.bytesTotal}
          testId="folder-upload-progress"
          label={`${progress.file}: ${formatBytes(progress.bytesDone)} of ${formatBytes(progress.bytesTotal)} · ${formatBytes(progress.bytesPerSecond)}/s${progress.etaSeconds !== undefined && progress.bytesDone < progress.bytesTotal ? ` · ${formatDuration(progress.etaSeconds)} left` : ''}`}
        />
      )}
    </details>
  )
}
