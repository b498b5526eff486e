/**
 * Steering experiments in the workbench: starting 'experiment' jobs in the job worker (experiment-task.ts runs
 * them: engine/experiment/experiment-job.ts does the work, writing into the project's store), and the stored
 * experiments: list, summary, sequences and exports. Starting the same design again in the same project resumes
 * it (finished sequences are kept).
 */
import type { ApiRequest, ApiResult } from '../../shared/api'
import { checkExperimentDesign } from '../../shared/experiment-types'
import { conditionFasta, experimentCsv, experimentHtml, experimentJson } from '../engine/experiment/experiment-export'
import { ExperimentStore } from '../engine/store/experiment-store'
import { NotFoundError } from './errors'
import type { ProjectJobDeps } from './steering'

type Deps = ProjectJobDeps

const EXPERIMENT_ID = /^exp-[0-9a-f]{12}$/

export class ExperimentWorkbench {
  constructor(private readonly deps: Deps) {}

  private experiments(projectId: string): ExperimentStore {
    const store = this.deps.store(projectId)
    if (!store) throw new NotFoundError('This project is not indexed yet: experiments need its store (index it first).')
    return new ExperimentStore(store.db)
  }

  start(req: ApiRequest<'startExperiment'>): ApiResult<'startExperiment'> {
    checkExperimentDesign(req.design)
    const project = this.deps.projects.get(req.projectId)
    if (!this.deps.store(req.projectId))
      throw new Error(
        'Experiments run in an indexed project (firing frequencies, max activations and concepts come from its store): index the project first.'
      )
    const model = this.deps.models.resolve(project.modelId)
    const sae = this.deps.models.resolve(project.saeId)
    const conditions = req.design.clampSets.length
    const job = this.deps.jobs.startWorker(
      {
        kind: 'experiment',
        title: `Experiment "${req.design.name}" (${conditions} clamp set${conditions === 1 ? '' : 's'} × ${req.design.doses.length} doses, n ${req.design.n}) in "${project.name}"`,
        projectId: req.projectId
      },
      {
        kind: 'experiment',
        modelCacheRoot: this.deps.modelCacheRoot,
        modelDir: model.dir,
        saeDir: sae.dir,
        modelName: model.name,
        saeName: sae.name,
        layer: project.layer,
        device: this.deps.runtime.device,
        threads: this.deps.runtime.threads,
        db: this.deps.projects.storePath(project.id),
        design: req.design
      },
      { phase: 'starting', done: 0, total: 0, unit: 'sequences' }
    )
    return { job }
  }

  list(projectId: string): ApiResult<'listExperiments'> {
    const store = this.deps.store(projectId)
    return store ? new ExperimentStore(store.db).list() : []
  }

  private checkId(id: string): void {
    if (!EXPERIMENT_ID.test(id)) throw new NotFoundError(`There is no experiment "${id}".`)
  }

  summary(req: ApiRequest<'experimentSummary'>): ApiResult<'experimentSummary'> {
    this.checkId(req.experimentId)
    const es = this.experiments(req.projectId)
    let s: ApiResult<'experimentSummary'> | undefined
    try {
      s = es.summary(req.experimentId)
    } catch {
      throw new NotFoundError(`There is no experiment "${req.experimentId}" in this project.`)
    }
    if (!s)
      throw new NotFoundError(
        `Experiment "${req.experimentId}" has not finished yet (resume it by starting the same design again).`
      )
    return s
  }

  sequences(req: ApiRequest<'experimentSequences'>): ApiResult<'experimentSequences'> {
    this.checkId(req.experimentId)
    return this.experiments(req.projectId)
      .sequences(req.experimentId, { conditionIndex: req.conditionIndex, offset: req.offset, limit: req.limit ?? 1000 })
      .map(({ featureMeans: _m, ...s }) => s)
  }

  export(req: ApiRequest<'exportExperiment'>): ApiResult<'exportExperiment'> {
    const summary = this.summary(req)
    const seqs = this.experiments(req.projectId).sequences(req.experimentId)
    const base = `experiment-${summary.design.name.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 40)}-${summary.id}`
    switch (req.format) {
      case 'csv':
        return { fileName: `${base}.csv`, mimeType: 'text/csv', text: experimentCsv(summary, seqs) }
      case 'json':
        return { fileName: `${base}.json`, mimeType: 'application/json', text: experimentJson(summary) }
      case 'html':
        return { fileName: `${base}.html`, mimeType: 'text/html', text: experimentHtml(summary, seqs) }
      case 'fasta': {
        const conds = summary.conditions.filter(
          c => req.conditionIndex === undefined || c.condition.index === req.conditionIndex
        )
        if (conds.length === 0)
          throw new NotFoundError(`Experiment "${summary.id}" has no condition ${req.conditionIndex}.`)
        const key = conds.length === 1 ? `-${conds[0].condition.key.replace(/[^A-Za-z0-9_-]+/g, '-')}` : ''
        return {
          fileName: `${base}${key}.fasta`,
          mimeType: 'text/x-fasta',
          text: conds.map(c => conditionFasta(summary, c.condition, seqs)).join('')
        }
      }
    }
  }
}
