/**
 * Steering in the workbench: the live preview (in the service's thread: two forwards of one sequence), runs
 * as 'steer' jobs in the job worker (generation and scoring are long), and the saved runs.
 *
 * A run's job writes its JSON (`SteeringRunRecord`, the CLI's --out .json) to `<project folder>/steering/<run id>.json`;
 * in an indexed project the run then moves into the store's `steering_runs` table (migration 4; the file is
 * removed once the row is written), and so do the JSON runs of earlier versions, the first time runs are
 * listed or opened. A project without a store keeps its runs as files.
 * multiple-of-max clamps are resolved with the max activations of the project's latest complete run.
 */
import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import type { ExportResult, JobInfo } from '../../shared/api'
import { ValidationError } from '../../shared/validate'
import {
  checkClampSpecs,
  checkGenerationSettings,
  type SteeringExportRequest,
  type SteeringPreview,
  type SteeringPreviewRequest,
  type SteeringRunRecord,
  type SteeringRunRequest,
  type SteeringRunSummary,
  type StartSteeringRequest
} from '../../shared/steering-types'
import { importEsm2 } from '../engine/esm/esm2-import'
import { DEFAULT_WINDOW, Esm2Model } from '../engine/esm/esm2-model'
import type { DeviceChoice, RuntimeOptions } from '../engine/runtime/execution-provider'
import { loadSae } from '../engine/sae/sae-load'
import { toCsv, toFasta, toJson } from '../engine/steer/run-export'
import { SteeredModel } from '../engine/steer/steered-model'
import { previewShift, runSteering } from '../engine/steer/steering-run'
import { parseProsite } from '../engine/steer/prosite'
import { resolveSteeringPlan } from '../engine/steer/steering-plan'
import { tokenize } from '../engine/esm/alphabet'
import type { LatentStore } from '../engine/store/latent-store'
import { ClientError, NotFoundError } from './errors'
import type { JobManager } from './job-manager'
import type { ModelResolver } from './model-resolver'
import type { ProjectRegistry } from './projects'
import { sequenceFromText } from './pasted-sequences'
import { writeFileAtomic } from '../engine/fs/files'
import { ExperimentStore } from '../engine/store/experiment-store'

/** What the worker needs to run a steering job (worker-protocol.ts). */
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

/** What the jobs of a project that run its model (steering runs, experiments) need of the service. */
export interface ProjectJobDeps {
  projects: ProjectRegistry
  models: ModelResolver
  jobs: JobManager
  runtime: RuntimeOptions
  modelCacheRoot: string
  /** The project's store, or undefined when it is not indexed. */
  store: (projectId: string) => LatentStore | undefined
}

const RUN_ID = /^[A-Za-z0-9_-]{1,64}$/

async function openSteered(
  modelDir: string,
  saeDir: string,
  layer: number,
  runtime: RuntimeOptions,
  cacheRoot: string,
  saeK?: number
): Promise<SteeredModel> {
  const imported = await importEsm2(modelDir, cacheRoot)
  const model = await Esm2Model.open(imported, runtime)
  try {
    const sae = await loadSae(saeDir, { layer, libraryK: saeK })
    return new SteeredModel(model, sae, layer)
  } catch (e) {
    await model.close()
    throw e
  }
}

/** The worker side of a 'steer' job. */
export async function runSteerTask(
  task: SteerTask,
  ctx: { signal: AbortSignal; progress: (p: { phase: string; done: number; total: number; unit: string }) => void }
): Promise<{ runId: string }> {
  const steered = await openSteered(
    task.modelDir,
    task.saeDir,
    task.layer,
    { device: task.device, deviceId: 0, threads: task.threads },
    task.modelCacheRoot,
    task.saeK
  )
  try {
    const run = await runSteering({ steered, maxActivation: f => task.maxActivations[String(f)] }, task.request, {
      signal: ctx.signal,
      runId: task.runId,
      onProgress: p =>
        ctx.progress({
          phase: p.phase === 'generating' ? 'generating sequences' : 'scoring',
          done: p.done,
          total: p.total,
          unit: p.phase === 'generating' ? 'sequence passes' : 'forwards'
        })
    })
    // The library's names, not the shape's: a demo model in the ESM2-8M shape must not be recorded as esm2_t6_8M_UR50D.
    run.provenance = { ...run.provenance, model: task.modelName, sae: task.saeName }
    writeFileAtomic(task.outFile, toJson(run))
    return { runId: task.runId }
  } finally {
    await steered.model.close()
  }
}

export class SteeringWorkbench {
  private readonly previewModels = new Map<string, Promise<SteeredModel>>()

  constructor(private readonly deps: ProjectJobDeps) {}

  private runsDir(projectId: string): string {
    return join(this.deps.projects.dir(this.deps.projects.get(projectId).id), 'steering')
  }

  private maxActivations(projectId: string, features: number[]): Record<string, number> {
    const store = this.deps.store(projectId)
    if (!store || features.length === 0) return {}
    let overview
    try {
      overview = store.featureOverview()
    } catch {
      return {}
    }
    const out: Record<string, number> = {}
    const index = new Map(overview.ids.map((f, i) => [f, i]))
    for (const f of features) {
      const i = index.get(f)
      if (i !== undefined) out[String(f)] = overview.max[i]
    }
    return out
  }

  private async steeredFor(projectId: string): Promise<SteeredModel> {
    const project = this.deps.projects.get(projectId)
    const model = this.deps.models.resolve(project.modelId)
    const sae = this.deps.models.resolve(project.saeId)
    const key = `${model.dir}|${sae.dir}|${project.layer}`
    let s = this.previewModels.get(key)
    if (!s) {
      s = openSteered(model.dir, sae.dir, project.layer, this.deps.runtime, this.deps.modelCacheRoot, sae.saeK)
      this.previewModels.set(key, s)
      s.catch(() => this.previewModels.delete(key))
    }
    return s
  }

  async preview(req: SteeringPreviewRequest): Promise<SteeringPreview> {
    const sequence = sequenceFromText(req.sequence)
    const steered = await this.steeredFor(req.projectId)
    const max = this.maxActivations(
      req.projectId,
      req.clamps.filter(c => c.mode === 'multiple-of-max').map(c => c.feature)
    )
    const shift = await previewShift(
      { steered, maxActivation: f => max[String(f)] },
      { id: 'preview', sequence },
      req.clamps
    )
    return {
      sequence,
      aminoAcids: shift.aminoAcids,
      residues: shift.residues,
      unsteered: Array.from(shift.unsteered),
      steered: Array.from(shift.steered)
    }
  }

  async start(req: StartSteeringRequest): Promise<{ job: JobInfo; runId: string }> {
    const project = this.deps.projects.get(req.projectId)
    const model = this.deps.models.resolve(project.modelId)
    const sae = this.deps.models.resolve(project.saeId)
    const { projectId, ...request } = req
    if (request.start) request.start = { id: request.start.id, sequence: sequenceFromText(request.start.sequence) }
    const maxActivations = this.maxActivations(
      projectId,
      req.clamps.filter(c => c.mode === 'multiple-of-max').map(c => c.feature)
    )
    // check the request now (feature ids need the SAE: the worker checks those), so that bad requests fail at once
    // A request the workbench cannot run (a bad motif, a clamp out of range) is the caller's error: HTTP 400.
    try {
      checkRequestShape(request, maxActivations)
    } catch (e) {
      throw new ValidationError('request', (e as Error).message)
    }
    const runId = `${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${randomUUID().slice(0, 8)}`
    const dir = this.runsDir(projectId)
    mkdirSync(dir, { recursive: true })
    const s = request.settings
    const job = this.deps.jobs.startWorker(
      {
        kind: 'steer',
        title: `Steer ${s.mode} × ${s.n} (${req.clamps.map(c => `f${c.feature}`).join(', ') || 'no clamp'}) in "${project.name}"`,
        projectId
      },
      {
        kind: 'steer',
        modelCacheRoot: this.deps.modelCacheRoot,
        modelDir: model.dir,
        saeDir: sae.dir,
        ...(sae.saeK !== undefined ? { saeK: sae.saeK } : {}),
        modelName: model.name,
        saeName: sae.name,
        layer: project.layer,
        device: this.deps.runtime.device,
        threads: this.deps.runtime.threads,
        request,
        maxActivations,
        runId,
        outFile: join(dir, `${runId}.json`)
      },
      { phase: 'starting', done: 0, total: s.n, unit: 'sequences' }
    )
    return { job, runId }
  }

  /** The project's store's run table (after moving the run files into it), or undefined without a store. */
  private runStore(projectId: string): ExperimentStore | undefined {
    const store = this.deps.store(projectId)
    if (!store) return undefined
    const runs = new ExperimentStore(store.db)
    const dir = this.runsDir(projectId)
    if (existsSync(dir)) {
      for (const f of readdirSync(dir)) {
        if (!f.endsWith('.json')) continue
        let record: SteeringRunRecord
        try {
          record = JSON.parse(readFileSync(join(dir, f), 'utf8')) as SteeringRunRecord
        } catch {
          continue // a run being written or damaged stays a file
        }
        if (typeof record.id !== 'string' || !Array.isArray(record.sequences)) continue
        runs.putSteeringRun(record)
        unlinkSync(join(dir, f))
      }
    }
    return runs
  }

  listRuns(projectId: string): SteeringRunSummary[] {
    const stored = this.runStore(projectId)
    if (stored) return stored.steeringRuns()
    const dir = this.runsDir(projectId)
    if (!existsSync(dir)) return []
    const out: SteeringRunSummary[] = []
    for (const f of readdirSync(dir)) {
      if (!f.endsWith('.json')) continue
      try {
        const r = JSON.parse(readFileSync(join(dir, f), 'utf8')) as SteeringRunRecord
        out.push({
          id: r.id,
          createdAt: r.createdAt,
          mode: r.settings.mode,
          n: r.sequences.length,
          clamps: r.clamps,
          parentId: r.parent?.id
        })
      } catch {
        // a run being written or damaged is not listed
      }
    }
    return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt))
  }

  run(req: SteeringRunRequest): SteeringRunRecord {
    if (!RUN_ID.test(req.runId)) throw new NotFoundError(`There is no steering run "${req.runId}".`)
    const stored = this.runStore(req.projectId)?.steeringRun(req.runId)
    if (stored) return stored
    const file = join(this.runsDir(req.projectId), `${req.runId}.json`)
    if (!existsSync(file))
      throw new NotFoundError(`There is no steering run "${req.runId}" in this project (it may still be running).`)
    return JSON.parse(readFileSync(file, 'utf8')) as SteeringRunRecord
  }

  export(req: SteeringExportRequest): ExportResult {
    const run = this.run(req)
    const text = req.format === 'fasta' ? toFasta(run) : req.format === 'csv' ? toCsv(run) : toJson(run)
    const mimeType = req.format === 'fasta' ? 'text/x-fasta' : req.format === 'csv' ? 'text/csv' : 'application/json'
    return { fileName: `steering-${run.id}.${req.format === 'fasta' ? 'fasta' : req.format}`, mimeType, text }
  }

  async close(): Promise<void> {
    const all = [...this.previewModels.values()]
    this.previewModels.clear()
    for (const p of all) {
      try {
        await (await p).model.close()
      } catch {
        // nothing to release
      }
    }
  }
}

/**
 * The checks of a request that need no model (settings, clamp shapes and ranges, the motif, the start, max
 * activations for multiple-of-max), so that a bad request fails at once; feature ids are checked against the
 * SAE by the job itself (its error is the job's error).
 */
function checkRequestShape(request: Omit<StartSteeringRequest, 'projectId'>, max: Record<string, number>): void {
  checkGenerationSettings(request.settings)
  checkClampSpecs(request.clamps)
  if (request.settings.mode !== 'denovo' && !request.start)
    throw new ClientError(`${request.settings.mode} mode needs a starting sequence: pick a protein or paste one.`)
  const residues =
    request.settings.mode === 'denovo'
      ? request.settings.length!
      : tokenize(request.start!.sequence, request.start!.id).length - 2
  if (residues > DEFAULT_WINDOW)
    throw new ClientError(
      `Steering runs whole sequences of at most ${DEFAULT_WINDOW} residues; this one has ${residues}. Pick a shorter protein or a fragment.`
    )
  resolveSteeringPlan(
    { clamps: request.clamps },
    { dSae: Number.MAX_SAFE_INTEGER, saeName: 'the project SAE', residues, maxActivation: f => max[String(f)] }
  )
  if (request.motif !== undefined && request.motif.trim() !== '') parseProsite(request.motif)
}
