/**
 * Messages between the workbench service and its job worker thread (worker.ts). One worker runs one job:
 * `workerData` says which; the worker posts progress and then exactly one of done / failed / cancelled.
 */
import type { JobProgress } from '../../shared/api'
import type { SteerTask } from './steering'

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
  /** FASTA or UniProt flat file of the project's proteins. */
  input: string
  /** The project's store file. */
  db: string
  layer?: number
  threads: number
  device: 'auto' | 'cpu' | 'cuda'
  /** Generate the demo models first (when missing) into `dataDir`/demo. */
  demo?: { dataDir: string; esmResourcesDir: string }
}

export type WorkerTask = IndexTask | SteerTask

export type WorkerToMain =
  | { type: 'progress'; progress: JobProgress }
  | { type: 'done'; result: unknown }
  | { type: 'failed'; error: string }
  | { type: 'cancelled' }

export type MainToWorker = { type: 'cancel' }
