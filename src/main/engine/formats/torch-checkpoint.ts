/**
 * PyTorch checkpoints in the zip format `torch.save` writes since PyTorch 1.6: Hugging Face
 * `pytorch_model.bin`, fair-esm `.pt` files, InterPLM `ae_normalized.pt`, ...
 *
 * The archive has one top folder `<prefix>/` holding `data.pkl` (the pickled object, with every tensor
 * storage replaced by a persistent id), `data/<key>` (the raw little-endian bytes of each storage),
 * `version` and, since PyTorch 2.1, `byteorder`. A persistent id is the tuple
 * `('storage', storage_type, key, location, numel)`, where `storage_type` is a global such as
 * `torch.FloatStorage` (numel counts elements) or `torch.UntypedStorage` (numel counts bytes). Tensors
 * are rebuilt by `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])`,
 * `_rebuild_tensor(storage, offset, size, stride)`, `_rebuild_tensor_v3(..., dtype[, metadata])`,
 * wrapped by `_rebuild_parameter(data, ...)`, `_rebuild_parameter_with_state(data, ...)` or
 * `torch._tensor._rebuild_from_type_v2(func, type, args, state)`.
 *
 * Only `data.pkl` is read when opening; a tensor's bytes are read from its storage entry when asked for.
 * Views are honoured: a tensor may start inside a storage shared with others and may be non-contiguous
 * (a transposed weight); `readFloat32` always returns row-major values.
 */
import { closeSync, openSync, readSync } from 'node:fs'
import { isTuple, PickleGlobal, PickleObject, attributesOf, unpickle, type PickleCallable } from './pickle'
import { DTYPE_BYTES, elementCount, toFloat32 } from './tensor-archive'
import type { DType, StoredTensor, TensorArchive } from './tensor-archive'
import { ZipReader } from './zip'

export interface TorchCheckpoint extends TensorArchive {
  /** The unpickled object (see pickle.ts for how Python values map to JS); tensors in it are `TorchTensor`s. */
  readonly root: unknown
  /** The archive's top folder, e.g. "archive" or "pytorch_model". */
  readonly prefix: string
  /** Every tensor reachable from `root`, named by its dotted path (see `collectTensors`). */
  readonly tensors: ReadonlyMap<string, TorchStoredTensor>
}

/** A named tensor of a checkpoint, with its layout inside the storage. */
export interface TorchStoredTensor extends StoredTensor {
  readonly stride: readonly number[]
  /** Offset into the storage, in elements of `dtype`. */
  readonly storageOffset: number
  /** The storage's key, i.e. its entry `<prefix>/data/<key>`; equal keys mean shared memory. */
  readonly storageKey: string
}

/** Storage classes by name, with the dtype of their elements (`UntypedStorage` holds bytes). */
const STORAGE_DTYPES: Record<string, DType> = {
  DoubleStorage: 'F64',
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
  UntypedStorage: 'U8'
}

/** `torch.<name>` dtype globals, as passed to `_rebuild_tensor_v3`. */
const TORCH_DTYPES: Record<string, DType> = {
  float64: 'F64',
  double: 'F64',
  float32: 'F32',
  float: 'F32',
  float16: 'F16',
  half: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  long: 'I64',
  int32: 'I32',
  int: 'I32',
  int16: 'I16',
  short: 'I16',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL'
}

/** One `data/<key>` entry: raw bytes, read on demand. */
export class TorchStorage {
  constructor(
    readonly key: string,
    /** Element type of the storage class (`U8` for `UntypedStorage`). */
    readonly dtype: DType,
    readonly byteLength: number,
    readonly location: string,
    private readonly zip: ZipReader,
    readonly entryName: string
  ) {}

  readBytes(byteOffset: number, byteCount: number): Uint8Array {
    return this.zip.read(this.entryName, byteOffset, byteCount)
  }
}

/** A tensor as rebuilt from the pickle: a view (offset, shape, stride) into a storage. */
export class TorchTensor {
  constructor(
    readonly storage: TorchStorage,
    readonly dtype: DType,
    readonly storageOffset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[]
  ) {}

  isContiguous(): boolean {
    let expected = 1
    for (let d = this.shape.length - 1; d >= 0; d--) {
      if (this.shape[d] !== 1 && this.stride[d] !== expected) return false
      expected *= this.shape[d]
    }
    return true
  }

  /** Index (in elements) one past the last element the view touches; the offset when it is empty. */
  extentEnd(): number {
    if (elementCount(this.shape) === 0) return this.storageOffset
    let last = this.storageOffset
    for (let d = 0; d < this.shape.length; d++) last += (this.shape[d] - 1) * this.stride[d]
    return last + 1
  }

  /** The values in row-major order as float32. `context` names the tensor in error messages. */
  readFloat32(context: string): Float32Array {
    const count = elementCount(this.shape)
    if (count === 0) return new Float32Array(0)
    const size = DTYPE_BYTES[this.dtype]
    if (this.isContiguous()) {
      return toFloat32(this.storage.readBytes(this.storageOffset * size, count * size), this.dtype, count, context)
    }
    const span = this.extentEnd() - this.storageOffset
    const values = toFloat32(this.storage.readBytes(this.storageOffset * size, span * size), this.dtype, span, context)
    return gather(values, this.shape, this.stride)
  }
}

/** Copies a strided view (starting at index 0 of `source`) into a row-major array. */
export function gather(source: Float32Array, shape: readonly number[], stride: readonly number[]): Float32Array {
  const out = new Float32Array(elementCount(shape))
  const index = new Array<number>(shape.length).fill(0)
  let at = 0
  for (let i = 0; i < out.length; i++) {
    out[i] = source[at]
    for (let d = shape.length - 1; d >= 0; d--) {
      index[d]++
      at += stride[d]
      if (index[d] < shape[d]) break
      at -= stride[d] * shape[d]
      index[d] = 0
    }
  }
  return out
}

/** Opens a `torch.save` zip checkpoint, unpickling its `data.pkl`; tensor data stays on disk until read. */
export function openTorchCheckpoint(path: string): TorchCheckpoint {
  rejectLegacyFormat(path)
  const zip = ZipReader.open(path)
  try {
    const prefix = findPrefix(zip)
    checkByteOrder(zip, prefix)
    const loader = new StorageLoader(zip, prefix)
    const root = unpickle(zip.read(`${prefix}/data.pkl`), {
      source: `${path}: ${prefix}/data.pkl`,
      resolveGlobal: resolveTorchGlobal,
      persistentLoad: pid => loader.load(pid)
    })
    const tensors = new Map<string, TorchStoredTensor>()
    for (const [name, tensor] of collectTensors(root, path)) tensors.set(name, namedTensor(name, tensor, path))
    return { source: path, prefix, root, tensors, close: () => zip.close() }
  } catch (e) {
    zip.close()
    throw e
  }
}

/**
 * The tensors whose names start with `prefix`, keyed by the rest of the name (each tensor keeps its
 * full name for error messages). E.g. `tensorsWithPrefix(ckpt.tensors, 'model.')` gives the state
 * dict of a fair-esm checkpoint.
 */
export function tensorsWithPrefix<T extends StoredTensor>(
  tensors: ReadonlyMap<string, T>,
  prefix: string
): Map<string, T> {
  const out = new Map<string, T>()
  for (const [name, tensor] of tensors) if (name.startsWith(prefix)) out.set(name.slice(prefix.length), tensor)
  return out
}

/**
 * Every `TorchTensor` reachable from `root`, named by the dotted path of dict keys (string and integer
 * keys; entries under other keys are skipped), list indices and object attributes that lead to it. A
 * tensor at the root itself is named "". A tensor reachable along two paths (tied weights) appears
 * under both names.
 */
export function collectTensors(root: unknown, source: string): Map<string, TorchTensor> {
  const found = new Map<string, TorchTensor>()
  const onPath = new Set<object>()
  const visit = (value: unknown, path: string): void => {
    if (value instanceof TorchTensor) {
      found.set(path, value)
      return
    }
    if (typeof value !== 'object' || value === null || onPath.has(value)) return
    if (value instanceof PickleObject) rejectUnsupportedTensor(value, path, source)
    onPath.add(value)
    for (const [key, child] of children(value)) visit(child, path === '' ? key : `${path}.${key}`)
    onPath.delete(value)
  }
  visit(root, '')
  return found
}

function children(value: object): [string, unknown][] {
  if (value instanceof Map) {
    const out: [string, unknown][] = []
    for (const [key, child] of value) {
      if (typeof key === 'string' || typeof key === 'number' || typeof key === 'bigint') out.push([String(key), child])
    }
    return out
  }
  if (Array.isArray(value)) return value.map((child, i) => [String(i), child])
  if (value instanceof PickleObject) return [...attributesOf(value)]
  return []
}

function rejectUnsupportedTensor(obj: PickleObject, path: string, source: string): void {
  const { module, name } = obj.cls
  if (module.startsWith('torch') && name.startsWith('_rebuild')) {
    throw new Error(
      `${source}: "${path}" is stored with ${obj.cls.toString()}, which this reader does not support ` +
        '(only dense CPU-layout tensors are); convert it to a dense tensor and save again'
    )
  }
}

function namedTensor(name: string, tensor: TorchTensor, source: string): TorchStoredTensor {
  return {
    name,
    dtype: tensor.dtype,
    shape: tensor.shape,
    stride: tensor.stride,
    storageOffset: tensor.storageOffset,
    storageKey: tensor.storage.key,
    readFloat32: () => tensor.readFloat32(`${source}: tensor "${name}"`)
  }
}

/** Checkpoints from before PyTorch 1.6 are a bare pickle stream, not a zip archive. */
function rejectLegacyFormat(path: string): void {
  const fd = openSync(path, 'r')
  const head = Buffer.alloc(2)
  try {
    readSync(fd, head, 0, 2, 0)
  } finally {
    closeSync(fd)
  }
  if (head[0] === 0x80 && head[1] <= 5) {
    throw new Error(
      `${path}: this is a legacy (pre-1.6) PyTorch checkpoint, a bare pickle stream, which is not supported. ` +
        'Load it in Python and save it again with a recent torch.save, or convert it to safetensors.'
    )
  }
}

function findPrefix(zip: ZipReader): string {
  const prefixes = zip.entries().flatMap(name => {
    const match = /^([^/]+)\/data\.pkl$/.exec(name)
    return match ? [match[1]] : []
  })
  if (prefixes.length === 1) return prefixes[0]
  if (prefixes.length === 0) {
    throw new Error(`${zip.path}: a zip archive, but not a PyTorch checkpoint: there is no "<folder>/data.pkl" entry`)
  }
  throw new Error(
    `${zip.path}: several top folders have a data.pkl (${prefixes.join(', ')}); a torch.save checkpoint has exactly one`
  )
}

function checkByteOrder(zip: ZipReader, prefix: string): void {
  const name = `${prefix}/byteorder`
  if (!zip.entry(name)) return // written since PyTorch 2.1; older files are little-endian
  const order = Buffer.from(zip.read(name)).toString('latin1').trim()
  if (order !== 'little') {
    throw new Error(
      `${zip.path}: the tensors are stored with byte order "${order}"; only little-endian checkpoints are supported. ` +
        'Load and re-save the checkpoint on a little-endian machine (x86, ARM).'
    )
  }
}

/** Turns persistent ids into `TorchStorage`s, one per (key, dtype). */
class StorageLoader {
  private readonly storages = new Map<string, TorchStorage>()

  constructor(
    private readonly zip: ZipReader,
    private readonly prefix: string
  ) {}

  load(pid: unknown): TorchStorage {
    if (!isTuple(pid) || pid.length !== 5 || pid[0] !== 'storage') {
      throw new Error(`unsupported persistent id ${describePid(pid)}; expected ('storage', type, key, location, numel)`)
    }
    const [, type, key, location, numel] = pid
    if (typeof key !== 'string' || typeof location !== 'string' || typeof numel !== 'number') {
      throw new Error(`malformed storage persistent id ${describePid(pid)}`)
    }
    const dtype = storageDType(type)
    const cacheKey = `${key}:${dtype}`
    const cached = this.storages.get(cacheKey)
    if (cached) return cached
    const storage = this.createStorage(key, dtype, location, numel * DTYPE_BYTES[dtype])
    this.storages.set(cacheKey, storage)
    return storage
  }

  private createStorage(key: string, dtype: DType, location: string, byteLength: number): TorchStorage {
    const entryName = `${this.prefix}/data/${key}`
    const entry = this.zip.entry(entryName)
    if (!entry)
      throw new Error(`storage "${key}" has no entry "${entryName}" in the archive; the file is incomplete or corrupt`)
    if (entry.size < byteLength) {
      throw new Error(
        `storage entry "${entryName}" holds ${entry.size} bytes, but the pickle says ${byteLength}; the file is corrupt`
      )
    }
    return new TorchStorage(key, dtype, byteLength, location, this.zip, entryName)
  }
}

function storageDType(type: unknown): DType {
  if (type instanceof PickleGlobal && type.module.startsWith('torch') && type.name in STORAGE_DTYPES)
    return STORAGE_DTYPES[type.name]
  throw new Error(`unsupported storage type ${String(type)}; supported: ${Object.keys(STORAGE_DTYPES).join(', ')}`)
}

function describePid(pid: unknown): string {
  return Array.isArray(pid)
    ? `(${pid.map(p => (typeof p === 'string' ? `'${p}'` : String(p))).join(', ')})`
    : String(pid)
}

function resolveTorchGlobal(module: string, name: string): PickleCallable | undefined {
  if (module === 'torch._utils') return TORCH_UTILS[name]
  if (module === 'torch._tensor' && name === '_rebuild_from_type_v2') return rebuildFromType
  return undefined
}

const TORCH_UTILS: Record<string, PickleCallable> = {
  _rebuild_tensor: args => rebuildTensor(args, undefined),
  _rebuild_tensor_v2: args => rebuildTensor(args, undefined),
  _rebuild_tensor_v3: args => rebuildTensor(args, torchDType(args[6])),
  _rebuild_parameter: args => expectTensor(args[0], '_rebuild_parameter'),
  _rebuild_parameter_with_state: args => expectTensor(args[0], '_rebuild_parameter_with_state')
}

/** `_rebuild_from_type_v2(func, new_type, args, state)`: a tensor subclass; we keep the plain tensor. */
function rebuildFromType(args: readonly unknown[]): unknown {
  const [func, , funcArgs] = args
  if (typeof func !== 'function' || !Array.isArray(funcArgs)) {
    throw new Error(`_rebuild_from_type_v2 wraps ${String(func)}, which this reader cannot call`)
  }
  return expectTensor((func as PickleCallable)(funcArgs), '_rebuild_from_type_v2')
}

function expectTensor(value: unknown, what: string): TorchTensor {
  if (!(value instanceof TorchTensor)) throw new Error(`${what} expects a tensor as its first argument`)
  return value
}

function torchDType(value: unknown): DType {
  if (value instanceof PickleGlobal && value.module === 'torch' && value.name in TORCH_DTYPES)
    return TORCH_DTYPES[value.name]
  throw new Error(`unsupported tensor dtype ${String(value)}; supported: ${Object.keys(TORCH_DTYPES).join(', ')}`)
}

/** `(storage, storage_offset, size, stride, ...)`; the dtype is the storage's unless given (v3). */
function rebuildTensor(args: readonly unknown[], dtype: DType | undefined): TorchTensor {
  const [storage, offset, size, stride] = args
  if (!(storage instanceof TorchStorage))
    throw new Error(`a tensor is rebuilt from ${String(storage)} instead of a storage`)
  const shape = intTuple(size, 'size')
  const strides = intTuple(stride, 'stride')
  if (!Number.isSafeInteger(offset) || (offset as number) < 0 || strides.length !== shape.length) {
    throw new Error(
      `a tensor in storage "${storage.key}" has an invalid layout (offset ${String(offset)}, size [${shape}], stride [${strides}])`
    )
  }
  const tensor = new TorchTensor(storage, dtype ?? storage.dtype, offset as number, shape, strides)
  const needed = tensor.extentEnd() * DTYPE_BYTES[tensor.dtype]
  if (needed > storage.byteLength) {
    throw new Error(
      `a ${tensor.dtype} tensor of size [${shape}], stride [${strides}] at offset ${tensor.storageOffset} needs ${needed} bytes ` +
        `of storage "${storage.key}", which has ${storage.byteLength}; the file is corrupt`
    )
  }
  return tensor
}

function intTuple(value: unknown, what: string): number[] {
  if (!Array.isArray(value) || !value.every(v => Number.isSafeInteger(v) && (v as number) >= 0)) {
    throw new Error(`a tensor ${what} must be a tuple of non-negative integers, got ${String(value)}`)
  }
  return value as number[]
}
