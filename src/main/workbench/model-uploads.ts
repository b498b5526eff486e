/**
 * Browser mode's folder uploads: the files of a model or SAE folder arrive one per request
 * (`PUT /upload/<uploadId>/<path>`, http-server.ts) and are streamed, size-checked, into
 * `<uploadsRoot>/.incoming/<uploadId>/<path>`; `addUploadedModel` (service.ts) then hands the folder to the model
 * library, which checks it and moves it into place with one rename. A refused folder is deleted; folders never
 * registered are deleted at the next start (`cleanIncoming`).
 */
import { createWriteStream, existsSync, mkdirSync, rmSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { MAX_UPLOAD_FILE_BYTES, uploadId as checkUploadId, uploadPathProblem } from '../../shared/library-types'
import { problemOf } from '../../shared/schema'
import { ClientError } from './errors'

/** An upload refused before or while its bytes arrived: `status` is the HTTP status to answer. */
export class UploadError extends Error {
  constructor(
    readonly status: 400 | 411 | 413,
    message: string
  ) {
    super(message)
  }
}

export class ModelUploads {
  readonly incomingRoot: string

  constructor(
    uploadsRoot: string,
    /** The largest file accepted (bytes). */
    readonly maxFileBytes = MAX_UPLOAD_FILE_BYTES
  ) {
    this.incomingRoot = join(uploadsRoot, '.incoming')
  }

  /** Deletes every unfinished upload (those of an earlier run, never registered). */
  cleanIncoming(): void {
    rmSync(this.incomingRoot, { recursive: true, force: true })
  }

  /** The folder of an upload (checked id). */
  folder(uploadId: string): string {
    const bad = problemOf(checkUploadId, uploadId, 'upload id')
    if (bad) throw new ClientError(bad)
    return join(this.incomingRoot, uploadId)
  }

  /** The folder of an upload that has files, or a ClientError. */
  received(uploadId: string): string {
    const dir = this.folder(uploadId)
    if (!existsSync(dir) || !statSync(dir).isDirectory())
      throw new ClientError(`No files were uploaded under ${uploadId}: upload the folder's files first.`)
    return dir
  }

  /** Deletes an upload's files. */
  discard(uploadId: string): void {
    rmSync(this.folder(uploadId), { recursive: true, force: true })
  }

  /**
   * Streams one file of an upload to disk. `declaredBytes` is the request's content-length (required); a body
   * longer or shorter than it, or a file over `maxFileBytes`, is refused and what was written is deleted.
   */
  async receive(uploadId: string, path: string, declaredBytes: number | undefined, body: Readable): Promise<number> {
    const bad = problemOf(checkUploadId, uploadId, 'upload id')
    if (bad) throw new UploadError(400, bad)
    const pathProblem = uploadPathProblem(path)
    if (pathProblem) throw new UploadError(400, `The file path "${path}" ${pathProblem}.`)
    if (declaredBytes === undefined || !Number.isFinite(declaredBytes) || declaredBytes < 0)
      throw new UploadError(411, 'An upload needs its content-length (the size of the file).')
    if (declaredBytes > this.maxFileBytes)
      throw new UploadError(
        413,
        `${path} has ${declaredBytes} bytes, more than the ${this.maxFileBytes} bytes one uploaded file may have.`
      )
    const file = join(this.incomingRoot, uploadId, ...path.split('/'))
    mkdirSync(dirname(file), { recursive: true })
    let bytes = 0
    const limit = declaredBytes
    body.on('data', (c: Buffer) => {
      bytes += c.length
      if (bytes > limit)
        body.destroy(new UploadError(413, `${path}: the body is longer than its content-length (${limit} bytes).`))
    })
    try {
      await pipeline(body, createWriteStream(file))
    } catch (e) {
      rmSync(file, { force: true })
      if (e instanceof UploadError) throw e
      throw new UploadError(400, `${path}: the upload broke off (${(e as Error).message}).`)
    }
    if (bytes !== declaredBytes) {
      rmSync(file, { force: true })
      throw new UploadError(400, `${path}: ${bytes} bytes arrived of the ${declaredBytes} announced.`)
    }
    return bytes
  }
}
