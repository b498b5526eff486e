/**
 * Browser mode's folder upload (`plm-sae serve`): each file of a model or SAE folder is sent as its own
 * `PUT upload/<uploadId>/<path inside the folder>` (streamed to disk by the server, never base64 in JSON; the
 * token travels in the page's cookie), then `api.addUploadedModel({ uploadId, … })` registers the folder.
 * XMLHttpRequest rather than fetch because it reports upload progress.
 */
import { ApiError } from './client'

export interface UploadFile {
  /** The path inside the folder ("config.json", "layer_4/ae.pt"). */
  path: string
  file: Blob
}

export interface UploadProgress {
  bytesDone: number
  bytesTotal: number
  /** Bytes per second since the upload began. */
  bytesPerSecond: number
  /** Seconds left at that rate; undefined until known. */
  etaSeconds?: number
  file: string
}

/** A new random upload id (hex; `crypto.getRandomValues` also works on plain-http pages). */
export function newUploadId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  return Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('')
}

function putFile(url: string, file: Blob, onBytes: (sent: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('PUT', url)
    xhr.withCredentials = true
    xhr.upload.onprogress = e => onBytes(e.loaded)
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve()
      let message = `HTTP ${xhr.status}`
      try {
        message = (JSON.parse(xhr.responseText) as { error?: { message?: string } }).error?.message ?? message
      } catch {
        // not JSON: keep the status
      }
      reject(new ApiError(xhr.status === 401 ? 'unauthorized' : 'invalid-request', message))
    }
    xhr.onerror = () => reject(new ApiError('network', 'The upload broke off: the workbench server cannot be reached.'))
    xhr.send(file)
  })
}

/** Sends the files one after the other, reporting bytes and rate; rejects with the server's message. */
export async function uploadFolder(
  uploadId: string,
  files: UploadFile[],
  onProgress: (p: UploadProgress) => void,
  base = ''
): Promise<void> {
  const bytesTotal = files.reduce((s, f) => s + f.file.size, 0)
  const started = performance.now()
  let before = 0
  for (const f of files) {
    const url = `${base}upload/${encodeURIComponent(uploadId)}/${f.path.split('/').map(encodeURIComponent).join('/')}`
    const report = (sent: number): void => {
      const bytesDone = before + sent
      const seconds = (performance.now() - started) / 1000
      const bytesPerSecond = seconds > 0 ? bytesDone / seconds : 0
      onProgress({
        bytesDone,
        bytesTotal,
        bytesPerSecond,
        ...(bytesPerSecond > 0 ? { etaSeconds: (bytesTotal - bytesDone) / bytesPerSecond } : {}),
        file: f.path
      })
    }
    report(0)
    await putFile(url, f.file, report)
    before += f.file.size
    report(0)
  }
}
