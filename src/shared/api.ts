/**
 * The typed contract between the renderer and the engine: `WorkbenchApi`. The same interface is served by
 * Electron IPC (preload → main) and by `plm-sae serve` (HTTP `POST /api/<method>` + server-sent events), and
 * implemented once, in src/main/workbench/.
 *
 * Rules for adding a method (steering and everything else extend the contract the same way):
 *  1. Add one entry to `ApiMethods` below: `methodName: { request: XRequest; result: XResult }`. The request is
 *     ONE plain JSON object (use `EmptyRequest` when there is nothing to send); the result is plain JSON
 *     (no class instances, no typed arrays, no Map/Set, no undefined-only distinctions that JSON would lose,
 *     no functions). Put the DTOs in your own `src/shared/<area>-types.ts` and import them here.
 *  2. Define the request by its schema (src/shared/schema.ts: `export const XRequestSchema = obj({...})`,
 *     `export type XRequest = Infer<typeof XRequestSchema>`) and add the schema to `requestValidators` in
 *     src/shared/validate.ts (the compiler insists): every field checked (type, integer range, string length,
 *     enum from an `as const` list), unknown fields rejected. The renderer sends ids, never filesystem paths;
 *     a file the user picks is sent as its text or chosen through a host dialog.
 *  3. Implement it in `WorkbenchService` (src/main/workbench/service.ts). Long work runs as a job in the
 *     worker and reports through `onJobEvent`; the method returns the job's `JobInfo` at once.
 *  Nothing else is needed: the Electron IPC handlers, the preload bridge, the HTTP server and the renderer
 *  client are generic over `ApiMethods` (`API_METHODS` lists the names at run time).
 *
 * No Node or Electron imports in this file: it is compiled into the renderer too.
 */
import {
  bool,
  id,
  longText,
  MAX_FASTA_TEXT,
  obj,
  oneOf,
  opt,
  tagged,
  text,
  literal,
  featureId,
  runId,
  type Infer,
  type InferShape
} from './schema'
import {
  addDialogEntryShape,
  AddHubEntryRequestSchema,
  type AddUploadedModelRequest,
  DEVICE_SETTINGS,
  type DeviceSetting,
  type DownloadProgress,
  type HubSaeListing,
  type LibraryEntry,
  type ListHubSaesRequest,
  type RemoveEntryResult
} from './library-types'
import {
  BAD_RECORD_POLICIES,
  ConceptSplitSchema,
  FALSE_POSITIVE_SCOPES,
  type BadRecordPolicy,
  type ConceptSplit,
  type FalsePositiveScope,
  type BadRecordReport,
  FeatureDetail,
  FeatureExportQuery,
  FeatureLabelUpdate,
  FeatureListQuery,
  FeatureListResult,
  FeatureOverview,
  LiveFeaturesQuery,
  ConceptReport,
  ConceptReportQuery,
  ProteinDetail,
  ProteinFeaturesQuery,
  ProteinFeaturesResult,
  ProteinListQuery,
  ProteinListResult,
  proteinRef,
  StoreInfo
} from './store-types'
import type {
  ExperimentExportRequest,
  ExperimentInfo,
  ExperimentRequest,
  ExperimentSequence,
  ExperimentSequencesRequest,
  ExperimentSummary,
  StartExperimentRequest
} from './experiment-types'
import type {
  SteeringExportRequest,
  SteeringPreview,
  SteeringPreviewRequest,
  SteeringRunRecord,
  SteeringRunRequest,
  SteeringRunSummary,
  StartSteeringRequest
} from './steering-types'

/** A request with nothing in it. */
export const EmptyRequestSchema = obj({})
export type EmptyRequest = Record<string, never>

// ---------------------------------------------------------------------------------------------- app / provider

export interface ExecutionProviderInfo {
  /** Where inference runs now. */
  provider: 'cuda' | 'webgpu' | 'cpu'
  /** The device choice this run was started with (--device, or the saved setting). */
  choice?: DeviceSetting
  /** GPU name as the driver reports it (CUDA only), e.g. "NVIDIA RTX A6000". */
  deviceName?: string
  /** The WebGPU adapter (WebGPU only): vendor, name, the API Dawn runs over, and whether it is software. */
  adapter?: { vendor: string; name: string; backend: string; software: boolean }
  /** Why this provider was chosen (what `auto` found). */
  reason?: string
  deviceId?: number
  /** CPU threads (0 = one per core). */
  threads: number
  /** Why the GPU is not used, and what to install; absent when on CUDA or when no GPU was expected. */
  fallbackReason?: string
  /** One line for the indicator, e.g. "CUDA device 0 (NVIDIA A100)" or "CPU (auto threads)". */
  summary: string
}

export interface AppInfo {
  version: string
  /** 'desktop' under Electron, 'browser' under `plm-sae serve`. */
  mode: 'desktop' | 'browser'
  provider: ExecutionProviderInfo
  /** The app's data folder (models, projects, settings), for display. */
  dataDir: string
  /** Bytes used by the data folder's model cache and projects. */
  diskBytes: { models: number; projects: number }
  /** The project opened at start (the last one, or the demo project on a first start). */
  currentProjectId?: string
  /** Library ids of the model and SAE used last (the defaults of a new project), when remembered. */
  lastModelId?: string
  lastSaeId?: string
  /** Whether adding a local model folder is possible (desktop: through a folder dialog). */
  canPickLocalFolders: boolean
  /** The saved device choice (settings), applied at the next start; absent = auto. */
  savedDevice?: DeviceSetting
}

export const SetDeviceRequestSchema = obj({ device: oneOf(DEVICE_SETTINGS) })
export type SetDeviceRequest = Infer<typeof SetDeviceRequestSchema>

// ------------------------------------------------------------------------------------------------ model library

/** Add a hub repository (or one of its subfolders), or (desktop only) a local folder chosen in a dialog. */
export const AddModelRequestSchema = tagged('source', {
  hub: AddHubEntryRequestSchema,
  'local-dialog': obj(addDialogEntryShape)
})
export type AddModelRequest = Infer<typeof AddModelRequestSchema>

export const SAE_FIT_LAYER_CHOICES = ['declared', 'all'] as const
export const CheckSaeFitRequestSchema = obj({
  /** The SAE's library id. */
  saeId: id,
  /** The ESM2 model's library id (default: the project's model, else the SAE's own model). */
  modelId: opt(id),
  /** Check on this project's proteins (and at its layer) instead of the demo set. */
  projectId: opt(id),
  /** 'declared': the SAE's layer only (default); 'all': every layer of the model, to compare. */
  layers: opt(oneOf(SAE_FIT_LAYER_CHOICES))
})
export type CheckSaeFitRequest = Infer<typeof CheckSaeFitRequestSchema>

export const ModelIdRequestSchema = obj({
  /** A `LibraryEntry.id`. */
  id
})
export type ModelIdRequest = Infer<typeof ModelIdRequestSchema>

// ----------------------------------------------------------------------------------------------------- projects

export interface ProjectInfo {
  id: string
  name: string
  /** The demo project built from resources/demo. */
  demo: boolean
  createdAt: string
  /** ISO time of the last open; projects are listed most recent first. */
  openedAt: string
  /** Library ids of the ESM2 model and the SAE the project is indexed with. */
  modelId: string
  saeId: string
  layer: number
  proteinCount: number
  /** Whether its latents are in the store (an index job finished). */
  indexed: boolean
  /** SAE width (number of features), once indexed. */
  featureCount?: number
  /** The SAE's fit at the project's layer, checked on the first proteins when it was last indexed (engine/sae/sae-fit.ts). */
  saeFit?: { fvu: number; cosine: number; l0: number; recoveredVsZero: number; proteins: number; warnings: string[] }
  /** Bytes of the project's folder (store, sequences, structures). */
  diskBytes: number
  /** What its index jobs do with a bad record (the last choice; 'skip' when never chosen). */
  onBadRecord: BadRecordPolicy
  /** Where its index jobs count concept false positives (the last choice; 'annotated' when never chosen). */
  falsePositives?: FalsePositiveScope
  /** Concept types its index jobs also score per note, and the minimum instances (the last choice; absent: none, 1). */
  conceptSplit?: ConceptSplit
  /** Structures bundled with the project. */
  structureCount: number
  /**
   * A project opened from a store file indexed elsewhere (e.g. a merged cluster index): the file's name and the
   * model and SAE it was indexed with. It is browsed as it is (no re-index, live features or steering).
   */
  fromStore?: { fileName: string; modelName: string; saeName: string }
}

export const PROJECT_SOURCE_KINDS = ['demo', 'fasta', 'uniprot'] as const
export type ProjectSourceKind = (typeof PROJECT_SOURCE_KINDS)[number]

export const ProjectSourceSchema = tagged('kind', {
  /** The bundled demo set (resources/demo): 100 annotated Swiss-Prot entries and their structures. */
  demo: obj({ kind: literal('demo') }),
  /** Sequences as FASTA text (the renderer reads the file the user picked; `fileName` names it in bad-record reports). */
  fasta: obj({ kind: literal('fasta'), text: longText(MAX_FASTA_TEXT, 1), fileName: opt(text(255, 1)) }),
  /** UniProt flat-file text (Swiss-Prot .dat) with residue annotations. */
  uniprot: obj({ kind: literal('uniprot'), text: longText(MAX_FASTA_TEXT, 1), fileName: opt(text(255, 1)) })
} satisfies Record<ProjectSourceKind, unknown>)
export type ProjectSource = Infer<typeof ProjectSourceSchema>

export const CreateProjectRequestSchema = obj({
  name: text(120, 1),
  source: ProjectSourceSchema,
  modelId: id,
  saeId: id,
  /** Start indexing at once (default true). */
  index: opt(bool),
  /**
   * What the index job does with a bad record (a sequence with letters that are not amino acids, an entry
   * that does not parse, an id already stored with another sequence): 'skip' it and go on (default; every
   * one is reported in the job's `badRecords`) or 'stop' (the job fails, naming the file, line and id).
   */
  onBadRecord: opt(oneOf(BAD_RECORD_POLICIES)),
  /**
   * Concept association counts false positives on 'annotated' proteins only (default) or on 'all' indexed
   * proteins (InterPLM's way); recorded with the run.
   */
  falsePositives: opt(oneOf(FALSE_POSITIVE_SCOPES)),
  /** Concept types also scored per note / ligand ("Metal binding: Zn(2+)"), and the minimum instances of a concept. */
  conceptSplit: opt(ConceptSplitSchema)
})
export type CreateProjectRequest = Infer<typeof CreateProjectRequestSchema>

export const OpenStoreRequestSchema = obj({
  /** The project's name (default: the store file's name). */
  name: opt(text(120, 1))
})
export type OpenStoreRequest = Infer<typeof OpenStoreRequestSchema>

/** Store queries name the project; the rest of the request is the store's own query (store-types.ts). */
export const projectScopedShape = { projectId: id }
export const ProjectIdRequestSchema = obj(projectScopedShape)
export type ProjectIdRequest = Infer<typeof ProjectIdRequestSchema>

export interface CreateProjectResult {
  project: ProjectInfo
  /** The index job started for it, when `index` was not false. */
  job?: JobInfo
}

// --------------------------------------------------------------------------------------------------------- jobs

export const JOB_KINDS = ['index', 'download', 'import', 'steer', 'experiment', 'sae-fit'] as const
export type JobKind = (typeof JOB_KINDS)[number]
export const JOB_STATES = ['queued', 'running', 'done', 'failed', 'cancelled'] as const
export type JobState = (typeof JOB_STATES)[number]

export interface JobProgress {
  /** What the job is doing now, e.g. "extracting latents", "writing store", "downloading model.safetensors". */
  phase: string
  done: number
  total: number
  /** Unit of done/total: 'sequences', 'residues', 'bytes', ... */
  unit: string
  /** Throughput in `unit` per second, when known. */
  rate?: number
  /** Seconds left, when known. */
  etaSeconds?: number
  /** A second line, e.g. "52 / 100 proteins". */
  detail?: string
}

export interface JobInfo {
  id: string
  kind: JobKind
  /** A line for the jobs list, e.g. "Index demo project with ESM2-8M (random weights) + demo SAE". */
  title: string
  state: JobState
  /** Project the job writes to (index jobs). */
  projectId?: string
  /** Library entry the job downloads (download jobs). */
  entryId?: string
  progress: JobProgress
  /** Download jobs: the library's own progress record. */
  download?: DownloadProgress
  startedAt: string
  finishedAt?: string
  /** A sentence for the user when the job failed. */
  error?: string
  /**
   * Index jobs: the bad records met so far (file, line, record id, why), skipped or (policy 'stop') the one
   * that stopped the job; the first `MAX_JOB_BAD_RECORDS` are kept, `badRecordCount` counts them all.
   */
  badRecords?: BadRecordReport[]
  badRecordCount?: number
  /** Index jobs that ended 'done' but whose results look wrong (see `RunInfo.warnings`): sentences for the user. */
  warnings?: string[]
}

/** Bad records kept in a `JobInfo` (the rest are counted). */
export const MAX_JOB_BAD_RECORDS = 1000

/** Pushed to every client whenever a job changes (progress at most a few times a second). */
export interface JobEvent {
  job: JobInfo
}

export const StartIndexJobRequestSchema = obj({
  projectId: id,
  /** Bad-record policy of this run (default: the project's last choice); remembered for the next. */
  onBadRecord: opt(oneOf(BAD_RECORD_POLICIES)),
  /** Concept false-positive scope of this run (default: the project's last choice); remembered for the next. */
  falsePositives: opt(oneOf(FALSE_POSITIVE_SCOPES)),
  /** Concepts split by note and the minimum instances of this run (default: the project's last choice); remembered. */
  conceptSplit: opt(ConceptSplitSchema)
})
export type StartIndexJobRequest = Infer<typeof StartIndexJobRequestSchema>

export const JobIdRequestSchema = obj({ jobId: id })
export type JobIdRequest = Infer<typeof JobIdRequestSchema>

// -------------------------------------------------------------------------------------------------------- store

/** Store queries name the project; the rest of the request is the store's own query type (store-types.ts). */
export type ProjectScoped = InferShape<typeof projectScopedShape>

export const FeatureRequestSchema = obj({
  ...projectScopedShape,
  /** Default: the project's latest complete run. */
  runId: opt(runId),
  /** Feature id (latent index). */
  feature: featureId
})
export type FeatureRequest = Infer<typeof FeatureRequestSchema>

export const ProteinRequestSchema = obj({
  ...projectScopedShape,
  /** The store's protein id or its accession. */
  protein: proteinRef
})
export type ProteinRequest = Infer<typeof ProteinRequestSchema>

export const FeatureOverviewRequestSchema = obj({ ...projectScopedShape, runId: opt(runId) })
export type FeatureOverviewRequest = Infer<typeof FeatureOverviewRequestSchema>

export interface FeatureLabelResult {
  feature: number
  label: string
  notes: string
}

export interface ExportResult {
  /** A suggested file name, e.g. "demo-features.csv". */
  fileName: string
  mimeType: string
  text: string
}

// --------------------------------------------------------------------------------------------------- structures

export const STRUCTURE_FORMATS = ['pdb', 'mmcif'] as const
export type StructureFormat = (typeof STRUCTURE_FORMATS)[number]

export interface StructureInfo {
  /** Id to load it with (never a path). */
  id: string
  /** e.g. "1UBQ", as in the file's name. */
  name: string
  title: string
  format: StructureFormat
  /** Chains in the file (author chain ids). */
  chains: string[]
  /** Proteins of the project this structure is known to show (accessions), when known. */
  proteinIds: string[]
  bytes: number
}

export interface StructureFile {
  id: string
  format: StructureFormat
  text: string
}

export const StructureRequestSchema = obj({ projectId: id, structureId: id })
export type StructureRequest = Infer<typeof StructureRequestSchema>

// ----------------------------------------------------------------------------------------------- the method map

/** Every method of the API: name → request and result. See the rules at the top of this file. */
export interface ApiMethods {
  // app
  appInfo: { request: EmptyRequest; result: AppInfo }
  /** Saves where inference runs (applied at the next start); returns the app info with the saved choice. */
  setDevice: { request: SetDeviceRequest; result: AppInfo }
  // model library
  listModels: { request: EmptyRequest; result: LibraryEntry[] }
  addModel: { request: AddModelRequest; result: LibraryEntry }
  /**
   * Browser mode: adds the folder whose files were sent to `PUT /upload/<uploadId>/<path>` as a library entry
   * (validated like a local folder; a refused upload is deleted). The desktop app refuses it (it has the dialog).
   */
  addUploadedModel: { request: AddUploadedModelRequest; result: LibraryEntry }
  /** The SAEs a hub repository holds (from its file list, nothing downloaded): the choices of the SAE picker. */
  listHubSaes: { request: ListHubSaesRequest; result: HubSaeListing }
  removeModel: { request: ModelIdRequest; result: RemoveEntryResult }
  /** Starts (or resumes) the download of a hub entry as a 'download' job. */
  downloadModel: { request: ModelIdRequest; result: JobInfo }
  /**
   * Starts a 'sae-fit' job: the SAE's fit (FVU, cosine, L0, masked-LM loss recovered) on a model, at its layer or
   * on every layer, on the demo set or a project's proteins; the result is kept with the SAE's library entry (`fit`).
   */
  checkSaeFit: { request: CheckSaeFitRequest; result: JobInfo }
  // projects
  listProjects: { request: EmptyRequest; result: ProjectInfo[] }
  createProject: { request: CreateProjectRequest; result: CreateProjectResult }
  /** Makes the project the current one (remembered for the next start). */
  openProject: { request: ProjectIdRequest; result: ProjectInfo }
  /** Desktop: picks a store file (a merged cluster index, another machine's project) in a dialog, copies it into a new project and opens it. */
  openStore: { request: OpenStoreRequest; result: ProjectInfo }
  // jobs
  startIndexJob: { request: StartIndexJobRequest; result: JobInfo }
  listJobs: { request: EmptyRequest; result: JobInfo[] }
  cancelJob: { request: JobIdRequest; result: JobInfo }
  // store queries
  /** The project's store: proteins, residues, runs (indexings), size. */
  storeInfo: { request: ProjectScoped; result: StoreInfo }
  listFeatures: { request: ProjectScoped & FeatureListQuery; result: FeatureListResult }
  /** Every feature as a point (frequency, max, best F1) for the overview plot. */
  featureOverview: { request: FeatureOverviewRequest; result: FeatureOverview }
  featureDetail: { request: FeatureRequest; result: FeatureDetail }
  updateFeatureLabel: { request: ProjectScoped & FeatureLabelUpdate; result: FeatureLabelResult }
  listProteins: { request: ProjectScoped & ProteinListQuery; result: ProteinListResult }
  proteinDetail: { request: ProteinRequest; result: ProteinDetail }
  /** Features firing on a stored protein, over a residue range. */
  proteinFeatures: { request: ProjectScoped & ProteinFeaturesQuery; result: ProteinFeaturesResult }
  /** Features of a pasted sequence, computed live with the project's model + SAE (protein is null). */
  liveFeatures: { request: ProjectScoped & LiveFeaturesQuery; result: ProteinFeaturesResult }
  /** Concept report of pasted sequences (FASTA, one or a family, or UniProt text with annotations), computed live. */
  conceptReport: { request: ProjectScoped & ConceptReportQuery; result: ConceptReport }
  /** The feature table (same filters and sort as listFeatures) as CSV or JSON text. */
  exportFeatures: { request: ProjectScoped & FeatureExportQuery; result: ExportResult }
  // structures
  listStructures: { request: ProjectScoped; result: StructureInfo[] }
  loadStructure: { request: StructureRequest; result: StructureFile }
  // steering (steering-types.ts)
  /** Per-position amino-acid probabilities of a sequence without and with the clamps (computed live). */
  steeringPreview: { request: SteeringPreviewRequest; result: SteeringPreview }
  /** Starts a 'steer' job (generation + scores); the run is saved in the project under `runId` when it ends. */
  startSteering: { request: StartSteeringRequest; result: { job: JobInfo; runId: string } }
  listSteeringRuns: { request: ProjectScoped; result: SteeringRunSummary[] }
  steeringRun: { request: SteeringRunRequest; result: SteeringRunRecord }
  /** A run as FASTA (headers: model, SAE, layer, clamps, mode, seed, scores), CSV or JSON. */
  exportSteeringRun: { request: SteeringExportRequest; result: ExportResult }
  // steering experiments (experiment-types.ts)
  /**
   * Starts (or resumes: same design, same project) an 'experiment' job; the experiment is stored in the project
   * (its id, a hash of design, model, SAE and layer, is listed by listExperiments once the job has begun).
   */
  startExperiment: { request: StartExperimentRequest; result: { job: JobInfo } }
  listExperiments: { request: ProjectScoped; result: ExperimentInfo[] }
  /** The summary (statistics per condition and clamp set) of a finished experiment. */
  experimentSummary: { request: ExperimentRequest; result: ExperimentSummary }
  experimentSequences: { request: ExperimentSequencesRequest; result: ExperimentSequence[] }
  /** Per-sequence CSV, design + summary JSON, FASTA (one condition or all) or the self-contained HTML report. */
  exportExperiment: { request: ExperimentExportRequest; result: ExportResult }
}

export type ApiMethod = keyof ApiMethods
export type ApiRequest<M extends ApiMethod> = ApiMethods[M]['request']
export type ApiResult<M extends ApiMethod> = ApiMethods[M]['result']

export type ApiCalls = { [M in ApiMethod]: (request: ApiRequest<M>) => Promise<ApiResult<M>> }

/** The whole API as the renderer sees it (`window.workbench` in Electron, the HTTP client in a browser). */
export interface WorkbenchApi extends ApiCalls {
  /** Subscribes to job events; returns the function that unsubscribes. */
  onJobEvent(listener: (event: JobEvent) => void): () => void
}

/**
 * The method names at run time (the IPC handlers, the HTTP routes and the clients are built from it).
 * `satisfies` makes the compiler check it lists every method of ApiMethods and nothing else.
 */
export const API_METHODS = [
  'appInfo',
  'setDevice',
  'listModels',
  'addModel',
  'addUploadedModel',
  'listHubSaes',
  'removeModel',
  'downloadModel',
  'checkSaeFit',
  'listProjects',
  'createProject',
  'openProject',
  'openStore',
  'startIndexJob',
  'listJobs',
  'cancelJob',
  'storeInfo',
  'listFeatures',
  'featureOverview',
  'featureDetail',
  'updateFeatureLabel',
  'listProteins',
  'proteinDetail',
  'proteinFeatures',
  'liveFeatures',
  'conceptReport',
  'exportFeatures',
  'listStructures',
  'loadStructure',
  'steeringPreview',
  'startSteering',
  'listSteeringRuns',
  'steeringRun',
  'exportSteeringRun',
  'startExperiment',
  'listExperiments',
  'experimentSummary',
  'experimentSequences',
  'exportExperiment'
] as const satisfies readonly ApiMethod[]

type MissingMethods = Exclude<ApiMethod, (typeof API_METHODS)[number]>
/** Compile-time check: fails to typecheck when a method of ApiMethods is missing from API_METHODS. */
export const API_METHODS_COMPLETE: MissingMethods extends never ? true : never = true

/** IPC channel names (Electron). */
export const IPC_INVOKE_CHANNEL = 'workbench:invoke'
export const IPC_JOB_EVENT_CHANNEL = 'workbench:job-event'

/** The error shape both transports return: a sentence for the user, plus the kind. */
export interface ApiErrorBody {
  error: { kind: 'invalid-request' | 'not-found' | 'failed' | 'unauthorized' | 'conflict'; message: string }
}

export function isApiMethod(name: string): name is ApiMethod {
  return (API_METHODS as readonly string[]).includes(name)
}
