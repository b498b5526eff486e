/**
 * Navigation between the views, kept in the URL hash (so reload, back/forward and links work the same in
 * Electron and in a browser), and the context every view reads: the current project and how to navigate.
 *
 * Views (src/renderer/src/views/<name>/index.tsx) default-export a component taking `ViewProps`, or read the
 * same things with `useWorkbench()`.
 */
import { createContext, useContext } from 'react'
import type { AppInfo, ProjectInfo } from '@shared/api'

export type ViewName =
  'models' | 'features' | 'feature-detail' | 'protein' | 'structure' | 'steering' | 'experiments' | 'concept-report'

export type Route =
  | { view: 'models' }
  | { view: 'features' }
  | { view: 'feature-detail'; feature?: number }
  /** `protein`: the store's id or an accession; absent = pick one or paste a sequence. */
  | {
      view: 'protein'
      protein?: string
      feature?: number
      /** A pasted sequence (kept in the URL for links and reloads) and its name; the chosen project structure. */ sequence?: string
      name?: string
      structure?: string
    }
  /** `structure`: a bundled structure's id; `protein`/`feature` say what to colour. */
  | { view: 'structure'; structure?: string; protein?: string; feature?: number }
  | { view: 'steering'; feature?: number }
  /** `features`: comma-separated feature ids to start a design with; `experiment`: one to open. */
  | { view: 'experiments'; features?: string; experiment?: string }
  | { view: 'concept-report' }

export const VIEWS: { name: ViewName; title: string }[] = [
  { name: 'models', title: 'Models & projects' },
  { name: 'features', title: 'Features' },
  { name: 'feature-detail', title: 'Feature detail' },
  { name: 'protein', title: 'Protein' },
  { name: 'structure', title: 'Structure' },
  { name: 'steering', title: 'Steering' },
  { name: 'experiments', title: 'Experiments' },
  { name: 'concept-report', title: 'Concept report' }
]

/** `#/feature-detail?feature=12` ⇄ { view: 'feature-detail', feature: 12 }. */
export function routeToHash(route: Route): string {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(route)) if (k !== 'view' && v !== undefined && v !== '') params.set(k, String(v))
  const q = params.toString()
  return `#/${route.view}${q ? `?${q}` : ''}`
}

function intParam(p: URLSearchParams, key: string): number | undefined {
  const v = p.get(key)
  if (v === null || !/^\d+$/.test(v)) return undefined
  return Number(v)
}

export function parseHash(hash: string): Route {
  const m = /^#\/([a-z-]+)(?:\?(.*))?$/.exec(hash)
  const p = new URLSearchParams(m?.[2] ?? '')
  switch (m?.[1]) {
    case 'features':
      return { view: 'features' }
    case 'feature-detail':
      return { view: 'feature-detail', feature: intParam(p, 'feature') }
    case 'protein':
      return {
        view: 'protein',
        protein: p.get('protein') ?? undefined,
        feature: intParam(p, 'feature'),
        sequence: p.get('sequence') ?? undefined,
        name: p.get('name') ?? undefined,
        structure: p.get('structure') ?? undefined
      }
    case 'structure':
      return {
        view: 'structure',
        structure: p.get('structure') ?? undefined,
        protein: p.get('protein') ?? undefined,
        feature: intParam(p, 'feature')
      }
    case 'steering':
      return { view: 'steering', feature: intParam(p, 'feature') }
    case 'experiments':
      return {
        view: 'experiments',
        features: /^\d+(,\d+)*$/.test(p.get('features') ?? '') ? p.get('features')! : undefined,
        experiment: p.get('experiment') ?? undefined
      }
    case 'concept-report':
      return { view: 'concept-report' }
    default:
      return { view: 'models' }
  }
}

export interface WorkbenchContextValue {
  appInfo: AppInfo | undefined
  /** The open project (undefined until one exists). */
  project: ProjectInfo | undefined
  projectId: string | undefined
  route: Route
  navigate(route: Route): void
  /** Re-reads app info and the project (after a job finished, a project was opened, ...). */
  refresh(): void
}

export const WorkbenchContext = createContext<WorkbenchContextValue>({
  appInfo: undefined,
  project: undefined,
  projectId: undefined,
  route: { view: 'models' },
  navigate: () => undefined,
  refresh: () => undefined
})

export function useWorkbench(): WorkbenchContextValue {
  return useContext(WorkbenchContext)
}

/** What a view's default export receives. */
export interface ViewProps {
  projectId: string | undefined
  project: ProjectInfo | undefined
  route: Route
  navigate(route: Route): void
}
