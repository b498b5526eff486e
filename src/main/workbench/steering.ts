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
  type SteeringExportRequest,
  type SteeringPreview,
  type SteeringPreviewRequest,
  type SteeringRunRecord,
  type SteeringRunRequest,
  type SteeringRunSummary,
  type StartSteeringRequest
} from '../../shared/steering-types'
import { DEFAULT_WINDOW } from '../engine/esm/esm2-model'
import type { RuntimeOptions } from '../engine/runtime/execution-provider'
import { toCsv, toFasta, toJson } from '../engine/steer/run-export'
import { openSteeredModel } from '../engine/steer/open-steered-model'
import type { SteeredModel } from '../engine/steer/steered-model'
import { checkSteeringRequest, previewShift } from '../engine/steer/steering-run'
import type { LatentStore } from '../engine/store/latent-store'
import { NotFoundError } from './errors'
import type { JobManager } from './job-manager'
import type { ModelResolver } from './model-resolver'
import type { ProjectRegistry } from './projects'
import { sequenceFromText } from './pasted-sequences'
import { ExperimentStore, steeringRunSummaryOf } from '../engine/store/experiment-store'

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
      overview = store.features.overview()
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
      s = openSteeredModel({
        modelDir: model.dir,
        cacheRoot: this.deps.modelCacheRoot,
        runtime: this.deps.runtime,
        saeDir: sae.dir,
        sae: { layer: project.layer, libraryK: sae.saeK },
        layer: project.layer
      })
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
      checkSteeringRequest(request, {
        window: DEFAULT_WINDOW,
        dSae: Number.MAX_SAFE_INTEGER,
        saeName: 'the project SAE',
        maxActivation: f => maxActivations[String(f)]
      })
    } catch (e) {
      throw e instanceof ValidationError ? e : new ValidationError('request', (e as Error).message)
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
        out.push(steeringRunSummaryOf(JSON.parse(readFileSync(join(dir, f), 'utf8')) as SteeringRunRecord))
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
