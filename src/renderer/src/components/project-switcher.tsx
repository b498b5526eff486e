/** The project name in the app header: a click lists the projects, and picking one opens it. */
import { useState, type ReactNode } from 'react'
import type { ProjectInfo } from '@shared/api'
import { api } from '../api'

function projectTitle(p: ProjectInfo): string {
  return `${p.name}${p.demo ? ' (demo)' : ''}`
}

export function ProjectSwitcher({
  projects,
  project,
  onSwitched
}: {
  projects: ProjectInfo[]
  project: ProjectInfo | undefined
  onSwitched: () => void
}): ReactNode {
  const [open, setOpen] = useState(false)
  const [error, setError] = useState<string>()
  const pick = async (id: string): Promise<void> => {
    setOpen(false)
    try {
      await api.openProject({ projectId: id })
      setError(undefined)
      onSwitched()
    } catch (e) {
      setError((e as Error).message)
    }
  }
  return (
    <span className="app-project project-switcher">
      <button
        type="button"
        className="link"
        onClick={() => setOpen(o => !o)}
        aria-haspopup="listbox"
        aria-expanded={open}
        title="Switch project"
        data-testid="current-project"
      >
        {project ? projectTitle(project) : 'no project'}
      </button>
      {projects.length > 1 && <span aria-hidden="true"> ▾</span>}
      {error && <span className="error-inline"> {error}</span>}
      {open && (
        <ul className="project-menu" role="listbox" data-testid="project-menu">
          {projects.map(p => (
            <li key={p.id}>
              <button
                type="button"
                role="option"
                aria-selected={p.id === project?.id}
                onClick={() => void pick(p.id)}
                data-testid="project-switch"
                data-project-id={p.id}
              >
                {projectTitle(p)}
                <span className="muted">
                  {' '}
                  · {p.indexed ? `${p.proteinCount.toLocaleString()} proteins` : 'not indexed'}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </span>
  )
}
