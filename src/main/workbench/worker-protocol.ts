/**
 * Messages between the workbench service and its job worker thread (worker.ts). One worker runs one job:
 * `workerData` says which; the worker posts progress and then exactly one of done / failed / cancelled.
 */
import type { JobProgress } from '../../shared/api'
import type { BadRecordPolicy, BadRecordReport, FalsePositiveScope } from '../../shared/store-types'
import type { SteerTask } from './steering'
import type { ExperimentTask } from './experiments'
import type { SaeFitTask } from './sae-fit-task'
import type { DeviceChoice, RuntimeOptions } from '../engine/runtime/execution-provider'
import type { SequenceInput } from '../engine/esm/esm2-model'
import type { SparseLatents } from '../engine/sae/sparse-latents'

export interface IndexTask {
  kind: 'index'
  /** ImportedEsm2 cache root (the app's model cache). */
  modelCacheRoot: string
  /** Folder (or file) of the ESM2 checkpoint, and its library name (stored with the run). */
  modelDir: string
  modelName: string
  /** Folder of the SAE, and its library name. */
  saeDir: string
  saeName: string
  /** The library entry's k for an SAE whose files do not store it (InterProt). */
  saeK?: number
  /** FASTA or UniProt flat file of the project's proteins. */
  input: string
  /** The name bad-record reports give that file (the user's file name; default: the path). */
  inputName?: string
  /** Skip bad records (each one reported) or stop at the first. */
  onBadRecord: BadRecordPolicy
  /** Where concept association counts false positives (default 'annotated'). */
  falsePositives?: FalsePositiveScope
  /** The project's store file. */
  db: string
  layer?: number
  threads: number
  device: DeviceChoice
  /** Generate the demo models first (when missing) into `dataDir`/demo. */
  demo?: { dataDir: string; esmResourcesDir: string }
}

export type WorkerTask = IndexTask | SteerTask | ExperimentTask | SaeFitTask

/**
 * Not a job: the resident worker that computes SAE activations of pasted sequences (pasted-sequence-task.ts).
 * It loads the project's model + SAE once, posts `ready`, then answers `extract` requests one at a time until
 * it is sent `close`.
 */
export interface PastedSequenceTask {
  kind: 'pasted-sequences'
  modelCacheRoot: string
  /** Folder (or file) of the ESM2 checkpoint. */
  modelDir: string
  /** Folder (or file) of the SAE, and the library entry's k for an SAE whose files do not store it. */
  saeDir: string
  saeK?: number
  layer: number
  runtime: RuntimeOptions
}

export type MainToPastedSequenceWorker =
  | { type: 'extract'; requestId: number; inputs: SequenceInput[] }
  | { type: 'cancelExtract'; requestId: number }
  | { type: 'close' }

export type PastedSequenceWorkerToMain =
  | { type: 'ready'; dSae: number; layer: number; maxActivePerResidue?: number }
  | { type: 'openFailed'; error: string }
  | { type: 'latents'; requestId: number; latents: SparseLatents }
  | { type: 'extracted'; requestId: number }
  | { type: 'extractFailed'; requestId: number; error: string }

export type WorkerToMain =
  | { type: 'progress'; progress: JobProgress }
  /** Index jobs: one bad record (skipped, or the one that stops the job). */
  | { type: 'badRecord'; report: BadRecordReport }
  | { type: 'done'; result: unknown }
  | { type: 'failed'; error: string }
  | { type: 'cancelled' }

export type MainToWorker = { type: 'cancel' }
