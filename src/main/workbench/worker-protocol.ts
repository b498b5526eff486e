/**
 * Messages between the workbench service and its job worker thread (worker.ts). One worker runs one job:
 * `workerData` says which; the worker posts progress and then exactly one of done / failed / cancelled.
 */
import type { JobProgress, SAE_FIT_LAYER_CHOICES } from '../../shared/api'
import type { BadRecordPolicy, BadRecordReport, ConceptSplit, FalsePositiveScope } from '../../shared/store-types'
import type { StartSteeringRequest } from '../../shared/steering-types'
import type { DeviceChoice, RuntimeOptions } from '../engine/runtime/execution-provider'
import type { ExperimentDesign } from '../../shared/experiment-types'
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
  /** Concept types also scored per note, and the minimum instances of a concept (default: none, 1). */
  conceptSplit?: ConceptSplit
  /** The project's structure files and the accessions each shows (for the label cards' 3D clustering). */
  structures?: { path: string; name: string; proteinIds: string[] }[]
  /** The project's store file. */
  db: string
  layer?: number
  threads: number
  device: DeviceChoice
  /** Generate the demo models first (when missing) into `dataDir`/demo. */
  demo?: { dataDir: string; esmResourcesDir: string }
}

/** What the worker needs to run a steering job (steer-task.ts). */
export interface SteerTask {
  kind: 'steer'
  modelCacheRoot: string
  modelDir: string
  saeDir: string
  /** The library entry's k for an SAE whose files do not store it (InterProt). */
  saeK?: number
  /** The library's names of the model and SAE (e.g. "Demo ESM2 (random weights)"), recorded in the run. */
  modelName: string
  saeName: string
  layer: number
  device: DeviceChoice
  threads: number
  request: Omit<StartSteeringRequest, 'projectId'>
  /** Max activation per clamped feature (for multiple-of-max), from the project's store. */
  maxActivations: Record<string, number>
  runId: string
  /** Where the run's JSON is written. */
  outFile: string
}

/** What the worker needs to run an experiment job (experiment-task.ts). */
export interface ExperimentTask {
  kind: 'experiment'
  modelCacheRoot: string
  modelDir: string
  saeDir: string
  modelName: string
  saeName: string
  layer: number
  device: DeviceChoice
  threads: number
  /** The project's store: the experiment is written into it. */
  db: string
  design: ExperimentDesign
}

/** What the worker needs to check an SAE's fit (sae-fit-task.ts). */
export interface SaeFitTask {
  kind: 'sae-fit'
  modelCacheRoot: string
  modelId: string
  modelName: string
  modelDir: string
  saeDir: string
  saeK?: number
  /** The layer the SAE is used at (the library entry's or the project's), when known. */
  layer?: number
  /** 'declared': that layer only; 'all': every layer of the model (0 = embeddings … numLayers). */
  layers: (typeof SAE_FIT_LAYER_CHOICES)[number]
  /** FASTA or UniProt file of the sample, and what to call it ("the demo set", a project's name). */
  input: string
  sample: string
  device: DeviceChoice
  threads: number
  /** Generate the demo models first (when missing), as the index job does. */
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

/** What a task's runner gets from the worker: the cancel signal and where progress (and bad records) go. */
export interface TaskContext {
  signal: AbortSignal
  progress(p: JobProgress): void
  /** Each bad record met (skipped ones, and the one that stops a 'stop' job). */
  badRecord?(r: BadRecordReport): void
}
