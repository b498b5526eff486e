/**
 * What the open project's numbers come from: the demo banner (every view whose numbers come from a demo
 * model says so, naming the models) and the model · SAE · layer line of the feature browser's header.
 */
import { useEffect, useState, type ReactNode } from 'react'
import type { ProjectInfo } from '@shared/api'
import type { LibraryEntry } from '@shared/library-types'
import { api } from '../api'

/** The library entries of the project's model and SAE (undefined until read). */
export function useProjectModels(project: ProjectInfo | undefined): {
  model?: LibraryEntry
  sae?: LibraryEntry
  loaded: boolean
} {
  const [entries, setEntries] = useState<LibraryEntry[] | null>(null)
  const key = project ? `${project.modelId}|${project.saeId}` : ''
  useEffect(() => {
    if (!key) return
    let wanted = true
    api.listModels({}).then(
      list => wanted && setEntries(list),
      () => wanted && setEntries([])
    )
    return () => {
      wanted = false
    }
  }, [key])
  if (!project) return { loaded: false }
  return {
    model: entries?.find(e => e.id === project.modelId),
    sae: entries?.find(e => e.id === project.saeId),
    loaded: entries !== null
  }
}

function nameOf(entry: LibraryEntry | undefined, id: string): string {
  return entry?.name ?? id
}

/** A banner over a view whose numbers come from the random-weight demo model or SAE. */
export function DemoModelBanner({ project }: { project: ProjectInfo | undefined }): ReactNode {
  const { model, sae, loaded } = useProjectModels(project)
  if (!project || !loaded) return null
  const demos = [
    model?.demo || project.modelId.startsWith('demo:') ? nameOf(model, project.modelId) : undefined,
    sae?.demo || project.saeId.startsWith('demo:') ? nameOf(sae, project.saeId) : undefined
  ].filter((n): n is string => n !== undefined)
  if (demos.length === 0) return null
  return (
    <div className="demo-banner" role="note" data-testid="demo-banner">
      <strong>Demo models, random weights:</strong> {demos.join(' and ')}. The numbers in this view show how the
      workbench works; they are not findings about proteins. Add a real ESM2 model and SAE under Models &amp; projects.
    </div>
  )
}

/** "Model … · SAE … · layer N" of the open project. */
export function ProjectModelsLine({ project }: { project: ProjectInfo | undefined }): ReactNode {
  const { model, sae, loaded } = useProjectModels(project)
  if (!project || !loaded) return null
  return (
    <span className="muted" data-testid="project-models">
      {nameOf(model, project.modelId)} · {nameOf(sae, project.saeId)} · layer {project.layer}
    </span>
  )
}
