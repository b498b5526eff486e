/**
 * The one entry point both transports (Electron IPC, `plm-sae serve`) use: checks the method name and the
 * request against src/shared/validate.ts, then calls the service. Errors come back as an `ApiErrorBody`.
 */
import type { ApiErrorBody, ApiMethod, WorkbenchApi } from '../../shared/api'
import { invalidRequestMessage, validateMethod, validateRequest, ValidationError } from '../../shared/validate'
import { SequenceError } from '../engine/esm/alphabet'
import { InputLimitError } from '../engine/io/text-lines'
import { NotInStoreError } from '../engine/store/latent-store'
import { StoreBusyError } from '../engine/store/store-lock'
import { ClientError, ConflictError, NotFoundError } from './errors'

export type DispatchResult = { ok: true; result: unknown } | { ok: false; status: number; body: ApiErrorBody }

export async function dispatch(api: WorkbenchApi, methodName: unknown, rawRequest: unknown): Promise<DispatchResult> {
  let method: ApiMethod
  let request: unknown
  try {
    method = validateMethod(methodName)
    request = validateRequest(method, rawRequest)
  } catch (e) {
    if (e instanceof ValidationError)
      return {
        ok: false,
        status: 400,
        body: { error: { kind: 'invalid-request', message: invalidRequestMessage(e) } }
      }
    throw e
  }
  try {
    const call = api[method] as (req: unknown) => Promise<unknown>
    const result = await call.call(api, request)
    return { ok: true, result }
  } catch (e) {
    const message = (e as Error).message || String(e)
    if (e instanceof NotFoundError || e instanceof NotInStoreError)
      return { ok: false, status: 404, body: { error: { kind: 'not-found', message } } }
    if (
      e instanceof ValidationError ||
      e instanceof ClientError ||
      e instanceof SequenceError ||
      e instanceof InputLimitError
    ) {
      const text = e instanceof ValidationError ? invalidRequestMessage(e) : message
      return { ok: false, status: 400, body: { error: { kind: 'invalid-request', message: text } } }
    }
    if (e instanceof ConflictError || e instanceof StoreBusyError)
      return { ok: false, status: 409, body: { error: { kind: 'conflict', message } } }
    return { ok: false, status: 500, body: { error: { kind: 'failed', message } } }
  }
}
