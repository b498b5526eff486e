/**
 * The app shell: header (project, execution provider, running jobs), navigation between the views, and the
 * current view. Views other than "Models & projects" are in views/<name>/index.tsx (the
 * default export of each) and are loaded lazily when they exist, so the shell builds whatever is there.
 */
import {
  Component,
  lazy,
  Suspense,
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
  type ComponentType,
  type ErrorInfo,
  type ReactNode
} from 'react'
import type { AppInfo, ProjectInfo } from '@shared/api'
import { api, useJobs } from './api'
import { DemoModelBanner } from './components/project-models'
import { ProjectSwitcher } from './components/project-switcher'
import { ServerStatus } from './components/server-status'
import {
  parseHash,
  routeToHash,
  VIEWS,
  WorkbenchContext,
  type Route,
  type ViewName,
  type ViewProps,
  type WorkbenchContextValue
} from './navigation'
import { ModelsView } from './views/models'
import { ProviderBadge } from './views/models/provider-badge'

const viewModules = import.meta.glob<{ default: ComponentType<ViewProps> }>([
  './views/*/index.tsx',
  '!./views/models/index.tsx'
])

function lazyView(name: ViewName): ComponentType<ViewProps> | undefined {
  const load = viewModules[`./views/${name}/index.tsx`]
  return load ? lazy(load) : undefined
}

class ViewErrorBoundary extends Component<{ children: ReactNode; view: string }, { error?: Error }> {
  override state: { error?: Error } = {}
  static getDerivedStateFromError(error: Error): { error: Error } {
    return { error }
  }
  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error(`view ${this.props.view} failed`, error, info.componentStack)
  }
  override render(): ReactNode {
    if (this.state.error) {
      return (
        <div className="panel error" role="alert">
          <h2>This view failed</h2>
          <p>{this.state.error.message}</p>
          <button onClick={() => this.setState({ error: undefined })}>Try again</button>
        </div>
      )
    }
    return this.props.children
  }
}

function useHashRoute(): [Route, (r: Route) => void] {
  const [route, setRoute] = useState<Route>(() => parseHash(window.location.hash))
  useEffect(() => {
    const onHash = (): void => setRoute(parseHash(window.location.hash))
    window.addEventListener('hashchange', onHash)
    return () => window.removeEventListener('hashchange', onHash)
  }, [])
  const navigate = useCallback((r: Route) => {
    const hash = routeToHash(r)
    if (window.location.hash !== hash) window.location.hash = hash
    setRoute(r)
  }, [])
  return [route, navigate]
}

export function App(): ReactNode {
  const [route, navigate] = useHashRoute()
  const [appInfo, setAppInfo] = useState<AppInfo>()
  const [projects, setProjects] = useState<ProjectInfo[]>([])
  const [error, setError] = useState<string>()
  const [tick, setTick] = useState(0)
  const refresh = useCallback(() => setTick(t => t + 1), [])
  const jobs = useJobs()

  useEffect(() => {
    let alive = true
    Promise.all([api.appInfo({}), api.listProjects({})])
      .then(([info, list]) => {
        if (!alive) return
        setAppInfo(info)
        setProjects(list)
        setError(undefined)
      })
      .catch((e: Error) => alive && setError(e.message))
    return () => {
      alive = false
    }
  }, [tick])

  // A job that ends changes projects (indexed, disk use) and the library: read them again.
  const finished = jobs
    .filter(j => j.state !== 'running' && j.state !== 'queued')
    .map(j => j.id)
    .join(',')
  useEffect(() => {
    if (finished) refresh()
  }, [finished, refresh])

  const projectId = appInfo?.currentProjectId ?? projects[0]?.id
  const project = projects.find(p => p.id === projectId)

  // First indexing of the open project (the demo on a first start): when it finishes while the user watches
  // the Models & projects view, open the feature browser on it.
  const watched = useRef(new Set<string>())
  useEffect(() => {
    for (const j of jobs) {
      if (j.kind !== 'index' || j.projectId !== projectId) continue
      if (j.state === 'running' && project && !project.indexed) watched.current.add(j.id)
      if (j.state === 'done' && watched.current.delete(j.id) && route.view === 'models') navigate({ view: 'features' })
    }
  }, [jobs, projectId, project, route.view, navigate])
  // A launch without a view in the URL: the remembered project (appInfo.currentProjectId) opens in the feature
  // browser when it is indexed; a first start stays on Models & projects, where the demo's indexing shows.
  const launching = useRef(route.view === 'models' && !/^#\/./.test(window.location.hash))
  useEffect(() => {
    if (!launching.current || !appInfo) return
    launching.current = false
    if (project?.indexed && route.view === 'models') navigate({ view: 'features' })
  }, [appInfo, project, route.view, navigate])
  const context: WorkbenchContextValue = useMemo(
    () => ({ appInfo, project, projectId, route, navigate, refresh }),
    [appInfo, project, projectId, route, navigate, refresh]
  )
  const views = useMemo(() => new Map(VIEWS.map(v => [v.name, v.name === 'models' ? undefined : lazyView(v.name)])), [])
  const running = jobs.filter(j => j.state === 'running' || j.state === 'queued')

  const View = route.view === 'models' ? undefined : views.get(route.view)
  return (
    <WorkbenchContext.Provider value={context}>
      <div className="app">
        <header className="app-header">
          <span className="app-title">PLM-SAE Workbench</span>
          <ProjectSwitcher projects={projects} project={project} onSwitched={refresh} />
          {running.length > 0 && (
            <button className="link app-jobs" onClick={() => navigate({ view: 'models' })} data-testid="header-jobs">
              {running.length} job{running.length > 1 ? 's' : ''} running: {running[0].title}{' '}
              {percent(running[0].progress.done, running[0].progress.total)}
            </button>
          )}
          <span className="spacer" />
          {appInfo && <ProviderBadge provider={appInfo.provider} />}
          {appInfo?.mode === 'browser' && <span className="badge">browser mode</span>}
        </header>
        <nav className="app-nav" aria-label="Views">
          {VIEWS.map(v => (
            <button
              key={v.name}
              className={route.view === v.name ? 'nav-item active' : 'nav-item'}
              aria-current={route.view === v.name ? 'page' : undefined}
              data-testid={`nav-${v.name}`}
              onClick={() => navigate({ view: v.name } as Route)}
            >
              {v.title}
            </button>
          ))}
        </nav>
        <main className="app-main" data-testid={`view-${route.view}`}>
          {error && (
            <div className="panel error" role="alert">
              {error}
            </div>
          )}
          <ServerStatus />
          {route.view !== 'models' && <DemoModelBanner project={project} />}
          <ViewErrorBoundary view={route.view} key={route.view}>
            {route.view === 'models' ? (
              <ModelsView
                projects={projects}
                currentProjectId={projectId}
                appInfo={appInfo}
                jobs={jobs}
                onChanged={refresh}
              />
            ) : View ? (
              <Suspense fallback={<p className="muted">Loading…</p>}>
                <View projectId={projectId} project={project} route={route} navigate={navigate} />
              </Suspense>
            ) : (
              <p className="muted">This view is not part of this build.</p>
            )}
          </ViewErrorBoundary>
        </main>
      </div>
    </WorkbenchContext.Provider>
  )
}

function percent(done: number, total: number): string {
  return total > 0 ? `${Math.floor((100 * done) / total)}%` : ''
}
