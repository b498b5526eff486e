/**
 * Projects on disk: `<dataDir>/projects/<id>/` holds `project.json` (name, models, times), the proteins as
 * given (`proteins.fasta` or `proteins.dat`), the latent store (`store.sqlite`) and bundled structures
 * (`structures/` + `structures.json`). The renderer only ever names a project by its id.
 */
import { randomBytes } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import type { ProjectInfo, ProjectSourceKind, StructureFormat, StructureInfo } from '../../shared/api'
import { detectStructureFormat, readStructure } from '../../shared/structure-reader'
import type { BadRecordPolicy, ConceptSplit, FalsePositiveScope } from '../../shared/store-types'
import { countRecords } from '../../shared/sequence-text'
import { ClientError, NotFoundError } from './errors'
import { writeFileAtomic } from '../engine/fs/files'

/** The proteins file of a project: the text a FASTA or UniProt source gave. */
export type ProteinsFormat = Exclude<ProjectSourceKind, 'demo'>

/**
 * `project.json`: the fields of `ProjectInfo` (src/shared/api.ts) that are stored, plus where the proteins are.
 * The rest of `ProjectInfo` (counts, sizes, whether it is indexed) is computed when it is listed.
 */
export type ProjectRecord = Pick<
  ProjectInfo,
  'id' | 'name' | 'demo' | 'createdAt' | 'openedAt' | 'modelId' | 'saeId' | 'layer' | 'proteinCount'
> & {
  /** File name of the proteins inside the project folder. */
  proteinsFile: string
  proteinsFormat: ProteinsFormat
  /** Bad-record policy of its index jobs (the user's last choice; absent = 'skip'). */
  onBadRecord?: ProjectInfo['onBadRecord']
  /** Concept false-positive scope of its index jobs (the user's last choice; absent = 'annotated'). */
  falsePositives?: ProjectInfo['falsePositives']
  /** Concepts split by note and their minimum instances for its index jobs (the user's last choice). */
  conceptSplit?: ProjectInfo['conceptSplit']
  /** Name of the file the proteins came from (for bad-record reports), when the user gave one. */
  sourceName?: string
  /**
   * Set for a project opened from a store file indexed elsewhere (Projects → Open a store, e.g. a merged
   * cluster index). Such a project has no proteins file and no library model / SAE (modelId and saeId are ''):
   * it is browsed, not re-indexed.
   */
  fromStore?: ProjectInfo['fromStore']
}

/** `structures.json`: what the renderer sees of each structure, plus its file name in `structures/`. */
interface StructureRecord extends StructureInfo {
  file: string
}

/** The demo's `manifest.json` (resources/demo), the parts used here. */
interface DemoManifest {
  name: string
  sequences: { file: string; format: string }
  structures: { file: string; pdbId: string; description: string; chains: { chain: string; uniprot?: string }[] }[]
}

const PROJECT_FILE = 'project.json'
const STORE_FILE = 'store.sqlite'
const STRUCTURES_FILE = 'structures.json'

function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`)
}

function slug(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
  return s || 'project'
}

/** Title, chain ids and UniProt cross-references of a PDB / mmCIF file (for the structure list), by the shared reader. */
export function describeStructureText(
  text: string,
  fileName: string
): { format: StructureFormat; title: string; chains: string[]; uniprot: string[] } {
  const format = /\.cif$/i.test(fileName) ? 'mmcif' : detectStructureFormat(text)
  const file = readStructure(text, format)
  return {
    format,
    title: file.title,
    chains: file.chains.map(c => c.chainId).filter(c => c.trim() !== ''),
    uniprot: file.uniprot
  }
}

export class ProjectRegistry {
  readonly root: string

  constructor(dataDir: string) {
    this.root = join(dataDir, 'projects')
    mkdirSync(this.root, { recursive: true })
  }

  dir(id: string): string {
    return join(this.root, id)
  }

  storePath(id: string): string {
    return join(this.dir(id), STORE_FILE)
  }

  proteinsPath(p: ProjectRecord): string {
    return join(this.dir(p.id), p.proteinsFile)
  }

  list(): ProjectRecord[] {
    const out: ProjectRecord[] = []
    for (const name of readdirSync(this.root)) {
      const file = join(this.root, name, PROJECT_FILE)
      if (!existsSync(file)) continue
      try {
        out.push(JSON.parse(readFileSync(file, 'utf8')) as ProjectRecord)
      } catch {
        // A damaged project.json: the project is left out of the list rather than breaking the app.
      }
    }
    return out.sort((a, b) => b.openedAt.localeCompare(a.openedAt))
  }

  get(id: string): ProjectRecord {
    // Ids come validated from the API; still, only a plain folder name is accepted here.
    const file = /^[a-z0-9][a-z0-9-]*$/.test(id) ? join(this.root, id, PROJECT_FILE) : ''
    if (!file || !existsSync(file))
      throw new NotFoundError(`There is no project "${id}". Open the Models & projects view to see the projects.`)
    return JSON.parse(readFileSync(file, 'utf8')) as ProjectRecord
  }

  save(p: ProjectRecord): void {
    writeJsonAtomic(join(this.dir(p.id), PROJECT_FILE), p)
  }

  touch(id: string): ProjectRecord {
    const p = { ...this.get(id), openedAt: new Date().toISOString() }
    this.save(p)
    return p
  }

  private newId(name: string): string {
    const base = slug(name)
    if (!existsSync(this.dir(base))) return base
    return `${base}-${randomBytes(3).toString('hex')}`
  }

  /** Creates a project from protein text (FASTA or UniProt flat file). */
  create(input: {
    name: string
    format: ProteinsFormat
    text: string
    modelId: string
    saeId: string
    layer: number
    demo?: boolean
    id?: string
    onBadRecord?: BadRecordPolicy
    falsePositives?: FalsePositiveScope
    conceptSplit?: ConceptSplit
    sourceName?: string
  }): ProjectRecord {
    const count = countRecords(input.text, input.format)
    if (count === 0) {
      throw new ClientError(
        input.format === 'fasta'
          ? 'The file has no FASTA records (lines starting with ">"): choose a FASTA file of protein sequences.'
          : 'The file has no UniProt entries (lines starting with "ID   "): choose a UniProt flat file (.dat / .txt).'
      )
    }
    const id = input.id ?? this.newId(input.name)
    const dir = this.dir(id)
    mkdirSync(dir, { recursive: true })
    const proteinsFile = input.format === 'fasta' ? 'proteins.fasta' : 'proteins.dat'
    writeFileSync(join(dir, proteinsFile), input.text)
    const now = new Date().toISOString()
    const record: ProjectRecord = {
      id,
      name: input.name,
      demo: input.demo ?? false,
      createdAt: now,
      openedAt: now,
      modelId: input.modelId,
      saeId: input.saeId,
      layer: input.layer,
      proteinsFile,
      proteinsFormat: input.format,
      proteinCount: count,
      ...(input.onBadRecord ? { onBadRecord: input.onBadRecord } : {}),
      ...(input.falsePositives ? { falsePositives: input.falsePositives } : {}),
      ...(input.conceptSplit ? { conceptSplit: input.conceptSplit } : {}),
      // A display name only (never opened): whatever path the client sent, just its last part.
      ...(input.sourceName ? { sourceName: basename(input.sourceName.replace(/\\/g, '/')) } : {})
    }
    this.save(record)
    this.writeStructures(id, [])
    return record
  }

  /**
   * A project around a store file indexed elsewhere: the folder and project.json; the caller copies the store
   * to `storePath(id)` (and removes the project when that fails).
   */
  createFromStore(input: {
    name: string
    fileName: string
    proteinCount: number
    layer: number
    modelName: string
    saeName: string
  }): ProjectRecord {
    const id = this.newId(input.name)
    mkdirSync(this.dir(id), { recursive: true })
    const now = new Date().toISOString()
    const record: ProjectRecord = {
      id,
      name: input.name,
      demo: false,
      createdAt: now,
      openedAt: now,
      modelId: '',
      saeId: '',
      layer: input.layer,
      proteinsFile: '',
      proteinsFormat: 'fasta',
      proteinCount: input.proteinCount,
      fromStore: {
        fileName: basename(input.fileName.replace(/\\/g, '/')),
        modelName: input.modelName,
        saeName: input.saeName
      }
    }
    this.save(record)
    this.writeStructures(id, [])
    return record
  }

  /** Creates the demo project from resources/demo (its Swiss-Prot entries and structures). */
  createDemo(demoDir: string, models: { modelId: string; saeId: string; layer: number }): ProjectRecord {
    const manifest = JSON.parse(readFileSync(join(demoDir, 'manifest.json'), 'utf8')) as DemoManifest
    const text = readFileSync(join(demoDir, manifest.sequences.file), 'utf8')
    const record = this.create({
      id: this.newId('demo'),
      name: 'Demo: 100 Swiss-Prot proteins',
      format: 'uniprot',
      text,
      demo: true,
      ...models
    })
    const dir = join(this.dir(record.id), 'structures')
    mkdirSync(dir, { recursive: true })
    const structures: StructureRecord[] = manifest.structures.map(s => {
      const file = basename(s.file)
      copyFileSync(join(demoDir, s.file), join(dir, file))
      const body = readFileSync(join(dir, file), 'utf8')
      const info = describeStructureText(body, file)
      return {
        id: s.pdbId.toLowerCase(),
        name: s.pdbId,
        title: s.description || info.title,
        format: info.format,
        chains: info.chains.length ? info.chains : s.chains.map(c => c.chain),
        proteinIds: [...new Set(s.chains.map(c => c.uniprot).filter((u): u is string => !!u))],
        bytes: Buffer.byteLength(body),
        file
      }
    })
    this.writeStructures(record.id, structures)
    return record
  }

  private writeStructures(id: string, list: StructureRecord[]): void {
    writeJsonAtomic(join(this.dir(id), STRUCTURES_FILE), list)
  }

  structures(id: string): StructureInfo[] {
    return this.structureRecords(id).map(({ file: _file, ...info }) => info)
  }

  private structureRecords(id: string): StructureRecord[] {
    const file = join(this.dir(this.get(id).id), STRUCTURES_FILE)
    if (!existsSync(file)) return []
    return JSON.parse(readFileSync(file, 'utf8')) as StructureRecord[]
  }

  /** The text of a structure, found by id in the project's own list (never by a path from outside). */
  structureText(projectId: string, structureId: string): { info: StructureInfo; text: string } {
    const rec = this.structureRecords(projectId).find(s => s.id === structureId)
    if (!rec) throw new NotFoundError(`Project "${projectId}" has no structure "${structureId}".`)
    const { file, ...info } = rec
    return { info, text: readFileSync(join(this.dir(projectId), 'structures', basename(file)), 'utf8') }
  }

  /** The project's structure files with the accessions each shows (for the label cards' 3D clustering). */
  structureFiles(id: string): { path: string; name: string; proteinIds: string[] }[] {
    return this.structureRecords(id).map(r => ({
      path: join(this.dir(id), 'structures', basename(r.file)),
      name: r.name,
      proteinIds: r.proteinIds
    }))
  }

  remove(id: string): void {
    rmSync(this.dir(this.get(id).id), { recursive: true, force: true })
  }
}
