/**
 * `WorkbenchService`: the one implementation of `WorkbenchApi` (src/shared/api.ts) over the engine, used by
 * the Electron main process (IPC) and by `plm-sae serve` (HTTP). Requests arrive validated (dispatch.ts).
 *
 * Store queries are answered here from the project's `LatentStore` (indexed SQLite reads, milliseconds); long
 * work — model import, demo model generation, indexing — runs in worker threads through `JobManager`, and
 * downloads run as async jobs, so the service never blocks. On the first start (no project yet) it creates the
 * demo project from resources/demo and starts indexing it: with the real models when they are ready (the user's
 * last model + SAE, or ESM2-8M + the preprint SAE), otherwise with the demo models (random weights).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import type {
  ApiCalls,
  ApiRequest,
  ApiResult,
  AppInfo,
  ExecutionProviderInfo,
  JobEvent,
  JobInfo,
  ProjectInfo,
  WorkbenchApi
} from '../../shared/api'
import type { AppSettings, LibraryEntry, SaeFitCheck } from '../../shared/library-types'
import type { BadRecordPolicy, ConceptSplit, FalsePositiveScope } from '../../shared/store-types'
import { appDataDir, modelCacheRoot } from '../engine/fs/app-paths'
import { cleanModelCache } from '../engine/esm/esm2-import'
import { SettingsStore } from '../engine/library/app-settings'
import { DEMO_SAE_LAYER } from '../engine/library/demo-models'
import { DEFAULT_RUNTIME, type RuntimeOptions } from '../engine/runtime/execution-provider'
import { pastedSequenceFeatures } from '../engine/jobs/pasted-sequence-features'
import { conceptReport, readReportSequences } from '../engine/jobs/concept-report'
import { FeatureOutOfRangeError, LatentStore } from '../engine/store/latent-store'
import { copyStoreFile, describeStoreFile } from '../engine/store/store-file'
import { folderBytes } from '../engine/fs/files'
import { ClientError, ConflictError, NotFoundError } from './errors'
import { ValidationError } from '../../shared/validate'
import { JobManager, defaultWorkerEntry } from './job-manager'
import { ModelUploads } from './model-uploads'
import { DEMO_ESM2_ID, DEMO_SAE_ID, ModelResolver } from './model-resolver'
import { ProjectRegistry, type ProjectRecord } from './projects'
import { probeProvider } from './provider'
import { MAX_PASTED_SEQUENCE_RESIDUES, PastedSequenceLatents, sequenceFromText } from './pasted-sequences'
import { SteeringWorkbench, type ProjectJobDeps } from './steering'
import { ExperimentWorkbench } from './experiments'

/** Sequences one concept report covers (each is run through the model in the pasted-sequence worker). */
const MAX_REPORT_SEQUENCES = 500

export interface WorkbenchOptions {
  mode: 'desktop' | 'browser'
  version?: string
  /** App data folder (default: the platform's, or $PLM_SAE_HOME). */
  dataDir?: string
  /** Imported models (ONNX graphs, converted weights); default `<dataDir>/models`. */
  modelCacheDir?: string
  /** The bundled resources folder (resources/: demo project, ESM vocabulary). */
  resourcesDir: string
  runtime?: RuntimeOptions
  /** Where the job worker's code is (Electron passes out/main/workbench-worker.js). */
  workerEntry?: () => { file: string; execArgv: string[] }
  /** Desktop only: a folder chooser for "add a local model folder". */
  chooseFolder?: (title: string) => Promise<string | undefined>
  /** Desktop only: a file chooser for "Open a store" (a store file indexed elsewhere). */
  chooseStoreFile?: (title: string) => Promise<string | undefined>
  /** Create and index the demo project when there is no project (default true). */
  firstRunDemo?: boolean
  log?: (line: string) => void
}

export class WorkbenchService implements WorkbenchApi {
  readonly dataDir: string
  readonly modelCache: string
  readonly projects: ProjectRegistry
  readonly jobs: JobManager
  readonly settings: SettingsStore
  readonly models: ModelResolver
  readonly steering: SteeringWorkbench
  readonly experiments: ExperimentWorkbench
  /** Browser mode: folders uploaded file by file (`PUT /upload/…`), until addUploadedModel registers them. */
  readonly uploads: ModelUploads
  /** The worker thread computing activations of pasted sequences (liveFeatures, conceptReport). */
  readonly pastedSequences: PastedSequenceLatents
  private readonly runtime: RuntimeOptions
  private provider: Promise<ExecutionProviderInfo> | undefined
  private readonly stores = new Map<string, LatentStore>()

  constructor(readonly opts: WorkbenchOptions) {
    this.dataDir = opts.dataDir ?? appDataDir()
    this.modelCache = opts.modelCacheDir ?? modelCacheRoot({ PLM_SAE_HOME: this.dataDir })
    mkdirSync(this.dataDir, { recursive: true })
    this.projects = new ProjectRegistry(this.dataDir)
    this.jobs = new JobManager(opts.workerEntry ?? defaultWorkerEntry)
    this.pastedSequences = new PastedSequenceLatents(opts.workerEntry ?? defaultWorkerEntry)
    this.settings = new SettingsStore(this.dataDir)
    // --device (plm-sae serve) wins; the desktop app starts with the saved choice (the settings' device).
    this.runtime = opts.runtime ?? { ...DEFAULT_RUNTIME, device: this.settings.load().device ?? DEFAULT_RUNTIME.device }
    this.models = new ModelResolver(this.dataDir, join(opts.resourcesDir, 'esm'), this.jobs, opts.chooseFolder)
    this.uploads = new ModelUploads(this.models.library.uploadsRoot)
    this.uploads.cleanIncoming()
    this.jobs.onEvent(e => this.afterJobEvent(e))
    const storeIfIndexed = (projectId: string): LatentStore | undefined =>
      existsSync(this.projects.storePath(this.projects.get(projectId).id)) ? this.store(projectId) : undefined
    const projectJobDeps: ProjectJobDeps = {
      projects: this.projects,
      models: this.models,
      jobs: this.jobs,
      runtime: this.runtime,
      modelCacheRoot: this.modelCache,
      store: storeIfIndexed
    }
    this.steering = new SteeringWorkbench(projectJobDeps)
    this.experiments = new ExperimentWorkbench(projectJobDeps)
  }

  private log(line: string): void {
    this.opts.log?.(line)
  }

  // ------------------------------------------------------------------------------------------------ lifecycle

  /**
   * First start: no project yet → the demo project, indexed with the models chosen by the library's start-up
   * selection (the remembered model and SAE, else the real ESM2-8M + the preprint SAE) when both are ready,
   * otherwise with the demo models (random weights, labelled as such).
   */
  async start(): Promise<void> {
    // What a killed model import left in the model cache goes at the next start (an import does the same).
    for (const p of cleanModelCache(this.modelCache))
      this.log(`Removed a leftover of an interrupted model import: ${p}`)
    if (this.opts.firstRunDemo === false || this.projects.list().length > 0) return
    const demoDir = join(this.opts.resourcesDir, 'demo')
    if (!existsSync(join(demoDir, 'manifest.json'))) {
      this.log(`No demo project: ${demoDir}/manifest.json is missing.`)
      return
    }
    const models = this.firstStartModels()
    const project = this.projects.createDemo(demoDir, models)
    this.settings.update({
      lastProject: this.projects.dir(project.id),
      lastModelId: models.modelId,
      lastSaeId: models.saeId
    })
    this.log(`First start: created the demo project "${project.name}" and started indexing it with ${models.names}.`)
    this.startIndex(project)
  }

  /** The model and SAE of the first-start demo project: real ones when ready, else the demo pair. */
  private firstStartModels(): { modelId: string; saeId: string; layer: number; names: string } {
    const { model, sae } = this.models.library.startupSelection(this.settings.load())
    const usable =
      model !== undefined &&
      sae !== undefined &&
      !model.demo &&
      !sae.demo &&
      model.kind === 'esm2' &&
      sae.kind === 'sae' &&
      sae.layer !== undefined &&
      (model.numLayers === undefined || sae.layer <= model.numLayers)
    if (usable)
      return {
        modelId: model.id,
        saeId: sae.id,
        layer: sae.layer!,
        names: `${model.name} + ${sae.name} (layer ${sae.layer})`
      }
    return {
      modelId: DEMO_ESM2_ID,
      saeId: DEMO_SAE_ID,
      layer: DEMO_SAE_LAYER,
      names: 'the demo models (random weights; no real ESM2 + SAE is ready yet)'
    }
  }

  async close(): Promise<void> {
    await this.jobs.shutdown()
    await this.pastedSequences.close()
    await this.steering.close()
    for (const s of this.stores.values()) s.close()
    this.stores.clear()
  }

  private afterJobEvent(e: JobEvent): void {
    // A finished index job changed the store: reopen it so cached statements see the new run.
    if (e.job.kind === 'index' && e.job.projectId && e.job.state !== 'running' && e.job.state !== 'queued')
      this.closeStore(e.job.projectId)
  }

  onJobEvent(listener: (event: JobEvent) => void): () => void {
    return this.jobs.onEvent(listener)
  }

  // -------------------------------------------------------------------------------------------------- helpers

  private store(projectId: string): LatentStore {
    const p = this.projects.get(projectId)
    let s = this.stores.get(p.id)
    if (!s) {
      const path = this.projects.storePath(p.id)
      if (!existsSync(path))
        throw new NotFoundError(`Project "${p.name}" is not indexed yet: start its index job in Models & projects.`)
      s = LatentStore.open(path)
      this.stores.set(p.id, s)
    }
    return s
  }

  private closeStore(projectId: string): void {
    this.stores.get(projectId)?.close()
    this.stores.delete(projectId)
  }

  private currentProjectId(): string | undefined {
    const list = this.projects.list()
    const last = this.settings.load().lastProject
    // The remembered folder; when the data folder moved (copied, PLM_SAE_HOME changed), the project of that name.
    const byLast = last
      ? (list.find(p => this.projects.dir(p.id) === last) ?? list.find(p => basename(last) === p.id))
      : undefined
    return (byLast ?? list[0])?.id
  }

  private projectInfo(p: ProjectRecord): ProjectInfo {
    let indexed = false
    let featureCount: number | undefined
    let saeFit: ProjectInfo['saeFit']
    const storePath = this.projects.storePath(p.id)
    if (existsSync(storePath)) {
      try {
        const runs = this.store(p.id).runs()
        const complete = runs.filter(r => r.status === 'complete')
        indexed = complete.length > 0
        featureCount = complete.at(-1)?.dSae
        saeFit = fitOfRun(runs.at(-1)?.settings)
      } catch {
        indexed = false
      }
    }
    return {
      id: p.id,
      name: p.name,
      demo: p.demo,
      createdAt: p.createdAt,
      openedAt: p.openedAt,
      modelId: p.modelId,
      saeId: p.saeId,
      layer: p.layer,
      proteinCount: p.proteinCount,
      indexed,
      featureCount,
      ...(saeFit ? { saeFit } : {}),
      diskBytes: folderBytes(this.projects.dir(p.id)),
      onBadRecord: p.onBadRecord ?? 'skip',
      falsePositives: p.falsePositives ?? 'annotated',
      ...(p.conceptSplit ? { conceptSplit: p.conceptSplit } : {}),
      structureCount: this.projects.structures(p.id).length,
      ...(p.fromStore ? { fromStore: p.fromStore } : {})
    }
  }

  /** Starts (or returns the running) index job of a project; `onBadRecord` given = the project's new choice. */
  private startIndex(
    record: ProjectRecord,
    onBadRecord?: BadRecordPolicy,
    falsePositives?: FalsePositiveScope,
    conceptSplit?: ConceptSplit
  ): JobInfo {
    const running = this.jobs.active(j => j.kind === 'index' && j.projectId === record.id)
    if (running) return running
    if (record.fromStore) {
      throw new Error(
        `"${record.name}" was opened from the store ${record.fromStore.fileName}, indexed elsewhere with ${record.fromStore.modelName} + ${record.fromStore.saeName}; ` +
          'it is browsed as it is. To index more proteins, index them where it was made (plm-sae index / merge) and open the new store.'
      )
    }
    let project = record
    if (onBadRecord && onBadRecord !== (project.onBadRecord ?? 'skip')) {
      project = { ...project, onBadRecord }
      this.projects.save(project)
    }
    if (falsePositives && falsePositives !== (project.falsePositives ?? 'annotated')) {
      project = { ...project, falsePositives }
      this.projects.save(project)
    }
    if (conceptSplit) {
      project = { ...project, conceptSplit }
      this.projects.save(project)
    }
    const demo = project.modelId === DEMO_ESM2_ID || project.saeId === DEMO_SAE_ID
    const model = this.models.resolve(project.modelId)
    const sae = this.models.resolve(project.saeId)
    this.closeStore(project.id)
    return this.jobs.startWorker(
      { kind: 'index', title: `Index "${project.name}" with ${model.name} + ${sae.name}`, projectId: project.id },
      {
        kind: 'index',
        modelCacheRoot: this.modelCache,
        modelDir: model.dir,
        modelName: model.name,
        saeDir: sae.dir,
        saeName: sae.name,
        ...(sae.saeK !== undefined ? { saeK: sae.saeK } : {}),
        input: this.projects.proteinsPath(project),
        inputName: project.sourceName ?? project.proteinsFile,
        onBadRecord: project.onBadRecord ?? 'skip',
        falsePositives: project.falsePositives ?? 'annotated',
        ...(project.conceptSplit ? { conceptSplit: project.conceptSplit } : {}),
        structures: this.projects.structureFiles(project.id),
        db: this.projects.storePath(project.id),
        layer: project.layer,
        device: this.runtime.device,
        threads: this.runtime.threads,
        demo: demo ? { dataDir: this.dataDir, esmResourcesDir: join(this.opts.resourcesDir, 'esm') } : undefined
      },
      { phase: demo ? 'preparing the demo models' : 'starting', done: 0, total: project.proteinCount, unit: 'proteins' }
    )
  }

  // ------------------------------------------------------------------------------------------------------ app

  async appInfo(_req: ApiRequest<'appInfo'>): Promise<AppInfo> {
    this.provider ??= probeProvider(this.runtime)
    const provider = await this.provider
    const { lastModelId, lastSaeId, device: savedDevice } = this.settings.load()
    return {
      version: this.opts.version ?? process.env.PLM_SAE_VERSION ?? '0.1.0',
      mode: this.opts.mode,
      provider,
      dataDir: this.dataDir,
      diskBytes: {
        models:
          folderBytes(this.modelCache) +
          folderBytes(join(this.dataDir, 'hub')) +
          folderBytes(join(this.dataDir, 'demo')),
        projects: folderBytes(this.projects.root)
      },
      currentProjectId: this.currentProjectId(),
      ...(lastModelId ? { lastModelId } : {}),
      ...(lastSaeId ? { lastSaeId } : {}),
      canPickLocalFolders: this.opts.chooseFolder !== undefined,
      ...(savedDevice ? { savedDevice } : {})
    }
  }

  /** Saves the device choice; the running sessions keep their provider, the next start uses the choice. */
  async setDevice(req: ApiRequest<'setDevice'>): Promise<AppInfo> {
    this.settings.update({ device: req.device })
    return this.appInfo({})
  }

  // -------------------------------------------------------------------------------------------- model library

  async listModels(_req: ApiRequest<'listModels'>): Promise<LibraryEntry[]> {
    return this.models.list()
  }

  async addModel(req: ApiRequest<'addModel'>): Promise<ApiResult<'addModel'>> {
    return this.models.add(req)
  }

  async addUploadedModel(req: ApiRequest<'addUploadedModel'>): Promise<ApiResult<'addUploadedModel'>> {
    if (this.opts.mode === 'desktop')
      throw new ClientError('The desktop app adds a local folder through its folder dialog ("Add a local folder…").')
    const dir = this.uploads.received(req.uploadId)
    const { uploadId, ...fields } = req
    try {
      return this.models.library.addUploaded(fields, dir, uploadId, fields.name?.trim() || 'uploaded folder')
    } catch (e) {
      throw new ClientError(`The uploaded folder was not added: ${(e as Error).message}`)
    } finally {
      this.uploads.discard(uploadId)
    }
  }

  async listHubSaes(req: ApiRequest<'listHubSaes'>): Promise<ApiResult<'listHubSaes'>> {
    return this.models.library.listHubSaes(req.repo, req.revision)
  }

  async removeModel(req: ApiRequest<'removeModel'>): Promise<ApiResult<'removeModel'>> {
    const users = this.projects.list().filter(p => p.modelId === req.id || p.saeId === req.id)
    const indexing = users.find(p => this.jobs.active(j => j.projectId === p.id))
    if (indexing)
      throw new ConflictError(`"${req.id}" is in use by the running index job of "${indexing.name}": cancel it first.`)
    const local = this.models.list().find(m => m.id === req.id)?.localPath
    if (local) await this.pastedSequences.drop(local)
    const removed = this.models.remove(req.id)
    if (users.length === 0 || !removed.freedBytes) return removed
    return { ...removed, warnings: [removedModelWarning(users.map(p => p.name))] }
  }

  async downloadModel(req: ApiRequest<'downloadModel'>): Promise<JobInfo> {
    return this.models.download(req.id)
  }

  /**
   * The SAE's fit on a model as a 'sae-fit' job (worker thread): at the SAE's layer, or on every layer to compare
   * (what the app runs before indexing); on the demo set, or a project's proteins. Kept with the SAE's entry.
   */
  async checkSaeFit(req: ApiRequest<'checkSaeFit'>): Promise<JobInfo> {
    const project = req.projectId ? this.projects.get(req.projectId) : undefined
    const sae = this.models.resolve(req.saeId)
    if (sae.kind !== 'sae') throw new ClientError(`"${sae.name}" is not an SAE: choose an SAE to check.`)
    const entry = this.models.list().find(m => m.id === req.saeId)
    const modelId = req.modelId ?? project?.modelId ?? entry?.baseModelId
    if (!modelId)
      throw new ClientError(`"${sae.name}" names no model it belongs to: choose the ESM2 model to check it on.`)
    const model = this.models.resolve(modelId)
    if (model.kind !== 'esm2') throw new ClientError(`"${model.name}" is not an ESM2 model: choose one to check on.`)
    const layers = req.layers ?? 'declared'
    const running = this.jobs.active(j => j.kind === 'sae-fit' && j.entryId === sae.id)
    if (running) return running
    const demo = model.demo || sae.demo
    const sample = project
      ? { input: this.projects.proteinsPath(project), name: `the proteins of "${project.name}"` }
      : { input: join(this.opts.resourcesDir, 'demo', 'swissprot-100.dat'), name: 'the demo set' }
    return this.jobs.startWorker(
      {
        kind: 'sae-fit',
        title: `Check the fit of ${sae.name} on ${model.name} (${layers === 'all' ? 'every layer' : 'its layer'})`,
        entryId: sae.id,
        ...(project ? { projectId: project.id } : {}),
        onDone: result => this.models.library.recordFit(sae.id, result as SaeFitCheck)
      },
      {
        kind: 'sae-fit',
        modelCacheRoot: this.modelCache,
        modelId: model.id,
        modelName: model.name,
        modelDir: model.dir,
        saeDir: sae.dir,
        ...(sae.saeK !== undefined ? { saeK: sae.saeK } : {}),
        ...((project?.layer ?? sae.layer) !== undefined ? { layer: project?.layer ?? sae.layer } : {}),
        layers,
        input: sample.input,
        sample: sample.name,
        device: this.runtime.device,
        threads: this.runtime.threads,
        ...(demo ? { demo: { dataDir: this.dataDir, esmResourcesDir: join(this.opts.resourcesDir, 'esm') } } : {})
      },
      { phase: 'starting', done: 0, total: 1, unit: 'steps' }
    )
  }

  // ------------------------------------------------------------------------------------------------- projects

  async listProjects(_req: ApiRequest<'listProjects'>): Promise<ProjectInfo[]> {
    return this.projects.list().map(p => this.projectInfo(p))
  }

  async createProject(req: ApiRequest<'createProject'>): Promise<ApiResult<'createProject'>> {
    const model = this.models.resolve(req.modelId)
    const sae = this.models.resolve(req.saeId)
    if (model.kind !== 'esm2')
      throw new ClientError(`"${model.name}" is not an ESM2 model: choose an ESM2 model as the project's model.`)
    if (sae.kind !== 'sae') throw new ClientError(`"${sae.name}" is not an SAE: choose an SAE for the project.`)
    if (sae.layer === undefined)
      throw new ClientError(`The layer of "${sae.name}" is not known: add the SAE again with its layer.`)
    let record: ProjectRecord
    if (req.source.kind === 'demo') {
      record = this.projects.createDemo(join(this.opts.resourcesDir, 'demo'), {
        modelId: req.modelId,
        saeId: req.saeId,
        layer: sae.layer
      })
      if (req.name) record = { ...record, name: req.name }
      if (req.onBadRecord) record = { ...record, onBadRecord: req.onBadRecord }
      if (req.falsePositives) record = { ...record, falsePositives: req.falsePositives }
      if (req.conceptSplit) record = { ...record, conceptSplit: req.conceptSplit }
      this.projects.save(record)
    } else {
      record = this.projects.create({
        name: req.name,
        format: req.source.kind,
        text: req.source.text,
        modelId: req.modelId,
        saeId: req.saeId,
        layer: sae.layer,
        onBadRecord: req.onBadRecord,
        falsePositives: req.falsePositives,
        conceptSplit: req.conceptSplit,
        sourceName: req.source.fileName
      })
    }
    this.settings.update({ lastProject: this.projects.dir(record.id), lastModelId: req.modelId, lastSaeId: req.saeId })
    const job = req.index === false ? undefined : this.startIndex(record)
    return { project: this.projectInfo(record), job }
  }

  async openProject(req: ApiRequest<'openProject'>): Promise<ProjectInfo> {
    const p = this.projects.touch(req.projectId)
    const patch: Partial<AppSettings> = p.fromStore
      ? { lastProject: this.projects.dir(p.id) }
      : { lastProject: this.projects.dir(p.id), lastModelId: p.modelId, lastSaeId: p.saeId }
    this.settings.update(patch)
    return this.projectInfo(p)
  }

  async openStore(req: ApiRequest<'openStore'>): Promise<ProjectInfo> {
    if (!this.opts.chooseStoreFile) {
      throw new Error(
        'Opening a store file is only possible in the desktop app (it opens a file dialog). Copy the store to this machine and open it in the app.'
      )
    }
    const path = await this.opts.chooseStoreFile('Open a PLM-SAE store (.sqlite), e.g. a merged cluster index')
    if (!path) throw new Error('No store was chosen.')
    const summary = describeStoreFile(path)
    const run = summary.runs[summary.runs.length - 1]
    const record = this.projects.createFromStore({
      name: req.name ?? basename(path).replace(/\.(sqlite3?|db)$/i, ''),
      fileName: path,
      proteinCount: summary.proteins,
      layer: run.layer,
      modelName: run.modelName,
      saeName: run.saeName
    })
    try {
      await copyStoreFile(path, this.projects.storePath(record.id))
    } catch (e) {
      this.projects.remove(record.id)
      throw new Error(`Could not copy ${path} into the project: ${(e as Error).message}`, { cause: e })
    }
    this.settings.update({ lastProject: this.projects.dir(record.id) })
    return this.projectInfo(record)
  }

  // ----------------------------------------------------------------------------------------------------- jobs

  async startIndexJob(req: ApiRequest<'startIndexJob'>): Promise<JobInfo> {
    return this.startIndex(this.projects.get(req.projectId), req.onBadRecord, req.falsePositives, req.conceptSplit)
  }

  async listJobs(_req: ApiRequest<'listJobs'>): Promise<JobInfo[]> {
    return this.jobs.list()
  }

  async cancelJob(req: ApiRequest<'cancelJob'>): Promise<JobInfo> {
    if (!this.jobs.get(req.jobId)) throw new NotFoundError(`There is no job "${req.jobId}".`)
    return this.jobs.cancel(req.jobId)
  }

  // ---------------------------------------------------------------------------------------------------- store

  async storeInfo(req: ApiRequest<'storeInfo'>): Promise<ApiResult<'storeInfo'>> {
    return this.store(req.projectId).info()
  }

  async listFeatures(req: ApiRequest<'listFeatures'>): Promise<ApiResult<'listFeatures'>> {
    const { projectId, ...query } = req
    return this.store(projectId).features.list(query)
  }

  async featureOverview(req: ApiRequest<'featureOverview'>): Promise<ApiResult<'featureOverview'>> {
    return this.store(req.projectId).features.overview(req.runId)
  }

  async featureDetail(req: ApiRequest<'featureDetail'>): Promise<ApiResult<'featureDetail'>> {
    try {
      return this.store(req.projectId).features.detail(req.feature, { runId: req.runId })
    } catch (e) {
      throw e instanceof FeatureOutOfRangeError ? new NotFoundError(e.message) : e
    }
  }

  async updateFeatureLabel(req: ApiRequest<'updateFeatureLabel'>): Promise<ApiResult<'updateFeatureLabel'>> {
    const { projectId, ...update } = req
    try {
      const r = this.store(projectId).setFeatureLabel(update)
      return { feature: req.feature, label: r.label, notes: r.notes }
    } catch (e) {
      throw e instanceof FeatureOutOfRangeError ? new ValidationError('request.feature', e.message) : e
    }
  }

  async listProteins(req: ApiRequest<'listProteins'>): Promise<ApiResult<'listProteins'>> {
    const { projectId, ...query } = req
    return this.store(projectId).proteins.list(query)
  }

  async proteinDetail(req: ApiRequest<'proteinDetail'>): Promise<ApiResult<'proteinDetail'>> {
    const p = this.store(req.projectId).proteins.get(req.protein)
    if (!p) throw new NotFoundError(`The project has no protein ${JSON.stringify(req.protein)}.`)
    return p
  }

  async proteinFeatures(req: ApiRequest<'proteinFeatures'>): Promise<ApiResult<'proteinFeatures'>> {
    const { projectId, ...query } = req
    return this.store(projectId).proteins.features(query)
  }

  /** The pasted-sequence worker's activations source for a project's model, SAE and layer. */
  private pastedSequenceSource(project: ProjectRecord): ReturnType<PastedSequenceLatents['source']> {
    return this.pastedSequences.source({
      model: this.models.resolve(project.modelId),
      sae: this.models.resolve(project.saeId),
      layer: project.layer,
      runtime: this.runtime,
      modelCacheRoot: this.modelCache
    })
  }

  async liveFeatures(req: ApiRequest<'liveFeatures'>): Promise<ApiResult<'liveFeatures'>> {
    const { projectId, sequence, ...query } = req
    const project = this.projects.get(projectId)
    const store = this.store(projectId)
    const pasted = sequenceFromText(sequence, MAX_PASTED_SEQUENCE_RESIDUES)
    // the activations are computed in the pasted-sequence worker; the store answers the rest here
    const source = await this.pastedSequenceSource(project)
    return pastedSequenceFeatures(store, source, { ...query, sequence: pasted })
  }

  async conceptReport(req: ApiRequest<'conceptReport'>): Promise<ApiResult<'conceptReport'>> {
    const { projectId, text, ...opts } = req
    const project = this.projects.get(projectId)
    const store = this.store(projectId)
    // the pasted text goes through the same readers as files (FASTA or UniProt, detected from the content)
    const dir = mkdtempSync(join(tmpdir(), 'plm-sae-report-'))
    let sequences
    try {
      const file = join(dir, 'input.txt')
      writeFileSync(file, text.trimStart())
      sequences = await readReportSequences(file)
    } catch (e) {
      const why = (e as Error).message
        .replace(/^\S*input\.txt:(\d+):\s*/, 'line $1: ')
        .replace(/^\S*input\.txt:\s*/, '')
      throw new Error(`The pasted sequences cannot be read: ${why}`, { cause: e })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    if (sequences.length > MAX_REPORT_SEQUENCES)
      throw new Error(`${sequences.length} sequences were pasted; a report covers at most ${MAX_REPORT_SEQUENCES}.`)
    const source = await this.pastedSequenceSource(project)
    return conceptReport(store, source, sequences, opts)
  }

  async exportFeatures(req: ApiRequest<'exportFeatures'>): Promise<ApiResult<'exportFeatures'>> {
    const { projectId, ...query } = req
    const p = this.projects.get(projectId)
    const text = this.store(projectId).features.export(query)
    return {
      fileName: `${p.id}-features.${query.format}`,
      mimeType: query.format === 'csv' ? 'text/csv' : 'application/json',
      text
    }
  }

  // ----------------------------------------------------------------------------------------------- structures

  async listStructures(req: ApiRequest<'listStructures'>): Promise<ApiResult<'listStructures'>> {
    return this.projects.structures(req.projectId)
  }

  async loadStructure(req: ApiRequest<'loadStructure'>): Promise<ApiResult<'loadStructure'>> {
    const { info, text } = this.projects.structureText(req.projectId, req.structureId)
    return { id: info.id, format: info.format, text }
  }

  // ------------------------------------------------------------- steering (steering.ts), experiments (experiments.ts)

  readonly steeringPreview: ApiCalls['steeringPreview'] = async req => this.steering.preview(req)
  readonly startSteering: ApiCalls['startSteering'] = async req => this.steering.start(req)
  readonly listSteeringRuns: ApiCalls['listSteeringRuns'] = async req => this.steering.listRuns(req.projectId)
  readonly steeringRun: ApiCalls['steeringRun'] = async req => this.steering.run(req)
  readonly exportSteeringRun: ApiCalls['exportSteeringRun'] = async req => this.steering.export(req)
  readonly startExperiment: ApiCalls['startExperiment'] = async req => this.experiments.start(req)
  readonly listExperiments: ApiCalls['listExperiments'] = async req => this.experiments.list(req.projectId)
  readonly experimentSummary: ApiCalls['experimentSummary'] = async req => this.experiments.summary(req)
  readonly experimentSequences: ApiCalls['experimentSequences'] = async req => this.experiments.sequences(req)
  readonly exportExperiment: ApiCalls['exportExperiment'] = async req => this.experiments.export(req)
}

/** What `removeModel` tells the user when projects were indexed with the files it deleted. */
export function removedModelWarning(projects: string[]): string {
  const names = projects.map(n => `"${n}"`).join(', ')
  return (
    `${projects.length === 1 ? 'Project' : 'Projects'} ${names} ${projects.length === 1 ? 'was' : 'were'} indexed with it: ` +
    'their stored features stay readable, but typing a sequence, steering and indexing more proteins need it again (download or add it again).'
  )
}

/** Creates the service and runs its first-start logic (demo project). */
export async function openWorkbench(opts: WorkbenchOptions): Promise<WorkbenchService> {
  const service = new WorkbenchService(opts)
  await service.start()
  return service
}

/** The fit stored with a run (settings.fit, written by the index job), when it has the expected shape. */
function fitOfRun(settings: Record<string, unknown> | undefined): ProjectInfo['saeFit'] {
  const f = settings?.fit as Record<string, unknown> | undefined
  if (typeof f !== 'object' || f === null) return undefined
  const num = (k: string): number | undefined => (typeof f[k] === 'number' ? (f[k] as number) : undefined)
  const [fvu, cosine, l0, recoveredVsZero, proteins] = ['fvu', 'cosine', 'l0', 'recoveredVsZero', 'proteins'].map(num)
  if (
    fvu === undefined ||
    cosine === undefined ||
    l0 === undefined ||
    recoveredVsZero === undefined ||
    proteins === undefined
  )
    return undefined
  const warnings = Array.isArray(f.warnings) ? f.warnings.filter((w): w is string => typeof w === 'string') : []
  return { fvu, cosine, l0, recoveredVsZero, proteins, warnings }
}
