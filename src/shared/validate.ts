/**
 * Run-time validation of every API request (src/shared/api.ts) before it reaches the engine: Electron IPC and
 * the HTTP server both call `validateRequest` (through src/main/workbench/dispatch.ts), with the same schemas
 * the request types are derived from (src/shared/schema.ts; the schemas live beside their types in
 * src/shared/*-types.ts and api.ts). Unknown fields are rejected; ids are checked to be ids (no path
 * separators sequences like "..", no control characters); the renderer never sends a filesystem path.
 *
 * To add a method: add its schema to `requestValidators` (the compiler requires one per method of ApiMethods).
 */
import {
  API_METHODS,
  AddModelRequestSchema,
  CheckSaeFitRequestSchema,
  CreateProjectRequestSchema,
  EmptyRequestSchema,
  FeatureOverviewRequestSchema,
  FeatureRequestSchema,
  isApiMethod,
  JobIdRequestSchema,
  ModelIdRequestSchema,
  OpenStoreRequestSchema,
  ProjectIdRequestSchema,
  projectScopedShape,
  ProteinRequestSchema,
  SetDeviceRequestSchema,
  StartIndexJobRequestSchema,
  StructureRequestSchema,
  type ApiMethod,
  type ApiRequest
} from './api'
import {
  conceptReportQueryShape,
  featureExportQueryShape,
  featureLabelUpdateShape,
  featureListQueryShape,
  liveFeaturesQueryShape,
  proteinFeaturesQueryShape,
  proteinListQueryShape
} from './store-types'
import {
  SteeringExportRequestSchema,
  SteeringPreviewRequestSchema,
  SteeringRunRequestSchema,
  StartSteeringRequestSchema
} from './steering-types'
import {
  ExperimentExportRequestSchema,
  ExperimentRequestSchema,
  ExperimentSequencesRequestSchema,
  StartExperimentRequestSchema
} from './experiment-types'
import { AddUploadedModelRequestSchema } from './library-types'
import { ListHubSaesRequestSchema } from './library-types'
import { describeValue, obj, ValidationError, type Validator } from './schema'

export * from './schema'

// ------------------------------------------------------------------------------------------- the request table

const projectScoped = ProjectIdRequestSchema

/** Every method's request schema (the request types of api.ts are derived from the same schemas). */
export const requestValidators: { [M in ApiMethod]: Validator<ApiRequest<M>> } = {
  appInfo: EmptyRequestSchema,
  setDevice: SetDeviceRequestSchema,
  listModels: EmptyRequestSchema,
  addModel: AddModelRequestSchema,
  addUploadedModel: AddUploadedModelRequestSchema,
  listHubSaes: ListHubSaesRequestSchema,
  removeModel: ModelIdRequestSchema,
  downloadModel: ModelIdRequestSchema,
  checkSaeFit: CheckSaeFitRequestSchema,
  listProjects: EmptyRequestSchema,
  createProject: CreateProjectRequestSchema,
  openProject: projectScoped,
  openStore: OpenStoreRequestSchema,
  startIndexJob: StartIndexJobRequestSchema,
  listJobs: EmptyRequestSchema,
  cancelJob: JobIdRequestSchema,
  storeInfo: projectScoped,
  listFeatures: obj({ ...projectScopedShape, ...featureListQueryShape }),
  featureOverview: FeatureOverviewRequestSchema,
  featureDetail: FeatureRequestSchema,
  updateFeatureLabel: obj({ ...projectScopedShape, ...featureLabelUpdateShape }),
  listProteins: obj({ ...projectScopedShape, ...proteinListQueryShape }),
  proteinDetail: ProteinRequestSchema,
  proteinFeatures: obj({ ...projectScopedShape, ...proteinFeaturesQueryShape }),
  liveFeatures: obj({ ...projectScopedShape, ...liveFeaturesQueryShape }),
  exportFeatures: obj({ ...projectScopedShape, ...featureExportQueryShape }),
  conceptReport: obj({ ...projectScopedShape, ...conceptReportQueryShape }),
  listStructures: projectScoped,
  loadStructure: StructureRequestSchema,
  steeringPreview: SteeringPreviewRequestSchema,
  startSteering: StartSteeringRequestSchema,
  listSteeringRuns: projectScoped,
  steeringRun: SteeringRunRequestSchema,
  exportSteeringRun: SteeringExportRequestSchema,
  startExperiment: StartExperimentRequestSchema,
  listExperiments: projectScoped,
  experimentSummary: ExperimentRequestSchema,
  experimentSequences: ExperimentSequencesRequestSchema,
  exportExperiment: ExperimentExportRequestSchema
}

/** Validates `request` for `method`; throws a ValidationError that names the bad field. */
export function validateRequest<M extends ApiMethod>(method: M, request: unknown): ApiRequest<M> {
  return requestValidators[method](request, 'request') as ApiRequest<M>
}

/** For transports: the method name from the wire, checked. */
export function validateMethod(name: unknown): ApiMethod {
  if (typeof name !== 'string' || !isApiMethod(name)) {
    throw new ValidationError(
      'method',
      `unknown API method ${describeValue(name)} (known: ${API_METHODS.length} methods, e.g. ${API_METHODS.slice(0, 3).join(', ')})`
    )
  }
  return name
}
