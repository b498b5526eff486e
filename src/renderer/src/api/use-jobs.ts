/** React hook: the job list, kept current from `onJobEvent` (newest first). */
import { useEffect, useState } from 'react'
import type { JobInfo } from '@shared/api'
import { api } from './client'

export function useJobs(): JobInfo[] {
  const [jobs, setJobs] = useState<JobInfo[]>([])
  useEffect(() => {
    let wanted = true
    const apply = (job: JobInfo): void =>
      setJobs(list => {
        const i = list.findIndex(j => j.id === job.id)
        if (i < 0) return [job, ...list]
        const next = list.slice()
        next[i] = job
        return next
      })
    const off = api.onJobEvent(e => apply(e.job))
    api
      .listJobs({})
      .then(list => {
        if (wanted) setJobs(current => mergeJobs(list, current))
      })
      .catch(() => undefined)
    return () => {
      wanted = false
      off()
    }
  }, [])
  // Events can be missed (a dropped event stream reconnects): while a job runs, re-read the list now and then.
  const running = jobs.some(j => j.state === 'running' || j.state === 'queued')
  useEffect(() => {
    if (!running) return
    const timer = setInterval(() => {
      api.listJobs({}).then(
        list => setJobs(current => mergeJobs(current, list)),
        () => undefined
      )
    }, 5000)
    return () => clearInterval(timer)
  }, [running])
  return jobs
}

/** Jobs from a listing merged with those already known from events (events are newer). */
function mergeJobs(listed: JobInfo[], known: JobInfo[]): JobInfo[] {
  const byId = new Map(listed.map(j => [j.id, j]))
  for (const j of known) byId.set(j.id, j)
  return [...byId.values()].sort((a, b) => b.startedAt.localeCompare(a.startedAt))
}
