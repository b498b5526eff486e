/** The renderer's API: `import { api } from '@renderer/api'` (same `WorkbenchApi` in Electron and in a browser). */
export { api, ApiError, createHttpApi } from './client'
export { useJobs } from './use-jobs'
export type * from '@shared/api'
