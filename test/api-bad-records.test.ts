/**
 * Bad records in the app's index flow (issue 3: "Bad records are reported with file, line and id; they never
 * abort or corrupt a run silently; the user chooses skip or stop"): a project created from a FASTA with bad
 * records, through the real workbench service (validated requests, worker thread, demo models, real store):
 *  - 'skip': the job ends done, the good proteins are indexed, and the job lists every bad record with the
 *    user's file name, the line of its header, its id and why;
 *  - 'stop': the job fails at the first bad record, saying which (file, line, id), lists it, and the run is not
 *    marked complete; re-indexing with 'skip' then finishes it, and the choice is remembered by the project.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobInfo } from '../src/shared/api'
import { validateRequest, ValidationError } from '../src/shared/validate'
import { openWorkbench, type WorkbenchService } from '../src/main/workbench/service'
import { LatentStore } from '../src/main/engine/store/latent-store'
import { join } from 'node:path'
import { tempDir } from './helpers/tmp'

const tmp = tempDir('bad-records')
const resourcesDir = join(__dirname, '..', 'resources')
let service: WorkbenchService

// Line numbers: the bad records' headers are on lines 3 and 7.
const FASTA = [
  '>sp|Q00001|GOOD1_TEST first good protein OS=Homo sapiens', //   1
  'MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK', //        2
  '>bad_digits a sequence with digits', //                           3
  'MKTAYIAK12QRQISFVKSHF', //                                         4
  '>sp|Q00002|GOOD2_TEST second good protein OS=Mus musculus', //    5
  'MVLSPADKTNVKAAWGKVGAHAGEYGAEALERMFLSFPTTKTYFPHF', //               6
  '>bad_empty no sequence at all', //                                 7
  '>sp|Q00003|GOOD3_TEST third good protein OS=Homo sapiens', //     8
  'MGDVEKGKKIFVQKCAQCHTVEKGGKHKTGPNLHGLFGRKTGQAPGFTYTDANK', //        9
  ''
].join('\n')

beforeAll(async () => {
  service = await openWorkbench({
    mode: 'browser',
    dataDir: tmp.dir,
    resourcesDir,
    runtime: { device: 'cpu', deviceId: 0, threads: 1 },
    firstRunDemo: false
  })
})

afterAll(async () => {
  await service?.close()
  tmp.cleanup()
})

async function finished(job: JobInfo | undefined): Promise<JobInfo> {
  expect(job).toBeDefined()
  return service.jobs.waitFor(job!.id)
}

describe('bad records in the app', () => {
  it('the API contract takes the policy and the file name, and nothing else', () => {
    const req = {
      name: 'p',
      source: { kind: 'fasta', text: FASTA, fileName: 'my proteins.fasta' },
      modelId: 'demo:esm2',
      saeId: 'demo:sae',
      onBadRecord: 'stop'
    }
    expect(validateRequest('createProject', req)).toEqual(req)
    expect(() => validateRequest('createProject', { ...req, onBadRecord: 'ignore' })).toThrow(ValidationError)
    expect(() => validateRequest('createProject', { ...req, source: { ...req.source, fileName: 'a\nb' } })).toThrow(
      ValidationError
    )
    expect(validateRequest('startIndexJob', { projectId: 'p', onBadRecord: 'skip' })).toEqual({
      projectId: 'p',
      onBadRecord: 'skip'
    })
    expect(() => validateRequest('startIndexJob', { projectId: 'p', onBadRecord: 1 })).toThrow(ValidationError)
  })

  it("'skip': the job finishes and lists every bad record with file, line, id and why", async () => {
    const { project, job } = await service.createProject({
      name: 'Skip bad records',
      source: { kind: 'fasta', text: FASTA, fileName: 'my proteins.fasta' },
      modelId: 'demo:esm2',
      saeId: 'demo:sae',
      onBadRecord: 'skip'
    })
    expect(project.onBadRecord).toBe('skip')
    const done = await finished(job)
    expect(done.state, done.error).toBe('done')
    expect(done.badRecordCount).toBe(2)
    expect(done.badRecords).toEqual([
      { file: 'my proteins.fasta', line: 3, id: 'bad_digits', message: expect.stringMatching(/1/) },
      { file: 'my proteins.fasta', line: 7, id: 'bad_empty', message: 'the sequence is empty' }
    ])
    // The good proteins are indexed; the bad ones are not in the store.
    const info = (await service.listProjects({})).find(p => p.id === project.id)!
    expect(info.indexed).toBe(true)
    const proteins = await service.listProteins({ projectId: project.id, limit: 100 })
    expect(proteins.items.map(p => p.accession)).toEqual(['Q00001', 'Q00002', 'Q00003'])
  }, 240_000)

  it("'stop': the job fails naming the first bad record; re-indexing with 'skip' completes it", async () => {
    const { project, job } = await service.createProject({
      name: 'Stop at bad records',
      source: { kind: 'fasta', text: FASTA, fileName: 'stop.fasta' },
      modelId: 'demo:esm2',
      saeId: 'demo:sae',
      onBadRecord: 'stop'
    })
    expect(project.onBadRecord).toBe('stop')
    const failed = await finished(job)
    expect(failed.state).toBe('failed')
    expect(failed.error).toMatch(/^stop\.fasta:3: bad record "bad_digits": .*stopped/)
    expect(failed.badRecords).toEqual([{ file: 'stop.fasta', line: 3, id: 'bad_digits', message: expect.any(String) }])
    expect(failed.badRecordCount).toBe(1)
    // The run was not completed (nothing silently half-done): the project is not indexed.
    expect((await service.listProjects({})).find(p => p.id === project.id)!.indexed).toBe(false)
    const store = LatentStore.open(service.projects.storePath(project.id), { readonly: true })
    try {
      expect(store.runs().map(r => r.status)).toEqual(['failed'])
    } finally {
      store.close()
    }

    // The user chooses 'skip' and indexes again: done, both bad records listed, and the choice is remembered.
    const again = await finished(await service.startIndexJob({ projectId: project.id, onBadRecord: 'skip' }))
    expect(again.state, again.error).toBe('done')
    expect(again.badRecords?.map(r => [r.file, r.line, r.id])).toEqual([
      ['stop.fasta', 3, 'bad_digits'],
      ['stop.fasta', 7, 'bad_empty']
    ])
    const info = (await service.listProjects({})).find(p => p.id === project.id)!
    expect(info.indexed).toBe(true)
    expect(info.onBadRecord).toBe('skip')
  }, 240_000)
})
