/**
 * An unpickler for Python pickle protocols 2-5 (the binary opcodes; of the text opcodes of protocol 0
 * only PERSID), enough to read the `data.pkl` of a PyTorch checkpoint and whatever configuration objects
 * ride along with the weights.
 *
 * How Python values come out:
 * - None -> null; bool -> boolean; str -> string; float -> number.
 * - int -> number when it is a safe integer, else bigint (note: 1.0 and 1 both become the number 1).
 * - bytes -> Uint8Array (including protocol 2's `_codecs.encode(s, 'latin1')` and `bytes()` spelling);
 *   Python 2 `str` (BINSTRING) -> string, decoded as UTF-8 like `torch.load` does.
 * - list -> a mutable array; tuple -> a frozen array (test with `isTuple`).
 * - dict and collections.OrderedDict -> Map, keys as they come (strings, numbers, tuples, ...). String
 *   keys are looked up with `map.get('key')`; tuple keys are distinct arrays, so find them by iterating.
 * - set and frozenset -> Set.
 * - A global (class or function) -> whatever `resolveGlobal(module, name)` returns; when it returns
 *   undefined (and it is not one of the few built-ins above), an inert `PickleGlobal`.
 * - Calling (REDUCE, NEWOBJ, NEWOBJ_EX) a `PickleGlobal` gives an inert `PickleObject` recording the
 *   arguments; BUILD stores its state there. So `argparse.Namespace`, `omegaconf.DictConfig` and the
 *   like load without any code for them; read their attributes with `attributesOf(obj)`.
 * - A resolved global that is a JS function is called as `fn(args, kwargs)`.
 * - BUILD on any other object (a Map, an array, a caller's object) keeps the state on the side, also
 *   readable with `attributesOf` / `pickleState` (a torch state dict's `_metadata` ends up there).
 * - Persistent ids (PERSID, BINPERSID) are handed to `persistentLoad(pid)`.
 *
 * Opcode reference: CPython Lib/pickle.py and Lib/pickletools.py.
 */

export type PickleCallable = (args: readonly unknown[], kwargs?: ReadonlyMap<unknown, unknown>) => unknown

export interface UnpickleOptions {
  /** Names the data in error messages, e.g. "model.pt: archive/data.pkl". */
  source?: string
  /** Maps a global to a value; a function value is called by REDUCE/NEWOBJ. Undefined means unknown. */
  resolveGlobal?: (module: string, name: string) => unknown
  /** Turns a persistent id into an object. Required if the pickle contains persistent ids. */
  persistentLoad?: (pid: unknown) => unknown
}

/** A class or function the unpickler does not know. */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string
  ) {}

  toString(): string {
    return `${this.module}.${this.name}`
  }
}

/** An instance of (or the result of calling) an unknown global, kept as data. */
export class PickleObject {
  /** The state given by BUILD (usually a Map of attribute name -> value), or undefined. */
  state: unknown = undefined
  /** Items appended to the object (a list subclass). */
  readonly listItems: unknown[] = []
  /** Items set on the object (a dict subclass). */
  readonly dictItems = new Map<unknown, unknown>()

  constructor(
    readonly cls: PickleGlobal,
    readonly args: readonly unknown[],
    readonly kwargs?: ReadonlyMap<unknown, unknown>
  ) {}
}

const sideState = new WeakMap<object, unknown>()

/** The BUILD state of an object, or undefined. */
export function pickleState(obj: unknown): unknown {
  if (obj instanceof PickleObject) return obj.state
  return typeof obj === 'object' && obj !== null ? sideState.get(obj) : undefined
}

/**
 * The Python attributes an object received through BUILD: the string keys of its state dict, plus
 * those of the slot-state dict when the state is a `(dict, slots)` tuple. Empty if there are none.
 */
export function attributesOf(obj: unknown): Map<string, unknown> {
  const attributes = new Map<string, unknown>()
  const state = pickleState(obj)
  const parts = isTuple(state) && state.length === 2 ? state : [state]
  for (const part of parts) {
    if (!(part instanceof Map)) continue
    for (const [key, value] of part) if (typeof key === 'string') attributes.set(key, value)
  }
  return attributes
}

/** True for a Python tuple (a frozen array); lists are unfrozen arrays. */
export function isTuple(value: unknown): value is readonly unknown[] {
  return Array.isArray(value) && Object.isFrozen(value)
}

/** Unpickles `data`, returning the top-level object. */
export function unpickle(data: Uint8Array, options: UnpickleOptions = {}): unknown {
  return new Unpickler(data, options).load()
}

// Opcodes, from CPython Lib/pickle.py.
const OP = {
  MARK: 0x28, // (
  STOP: 0x2e, // .
  POP: 0x30, // 0
  POP_MARK: 0x31, // 1
  DUP: 0x32, // 2
  BINBYTES: 0x42, // B
  SHORT_BINBYTES: 0x43, // C
  BINFLOAT: 0x47, // G
  BININT: 0x4a, // J
  BININT1: 0x4b, // K
  BININT2: 0x4d, // M
  NONE: 0x4e, // N
  PERSID: 0x50, // P
  BINPERSID: 0x51, // Q
  REDUCE: 0x52, // R
  BINSTRING: 0x54, // T
  SHORT_BINSTRING: 0x55, // U
  BINUNICODE: 0x58, // X
  EMPTY_LIST: 0x5d, // ]
  APPEND: 0x61, // a
  BUILD: 0x62, // b
  GLOBAL: 0x63, // c
  DICT: 0x64, // d
  APPENDS: 0x65, // e
  BINGET: 0x68, // h
  LONG_BINGET: 0x6a, // j
  LIST: 0x6c, // l
  BINPUT: 0x71, // q
  LONG_BINPUT: 0x72, // r
  SETITEM: 0x73, // s
  TUPLE: 0x74, // t
  SETITEMS: 0x75, // u
  EMPTY_DICT: 0x7d, // }
  EMPTY_TUPLE: 0x29, // )
  PROTO: 0x80,
  NEWOBJ: 0x81,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  LONG1: 0x8a,
  LONG4: 0x8b,
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE8: 0x8d,
  BINBYTES8: 0x8e,
  EMPTY_SET: 0x8f,
  ADDITEMS: 0x90,
  FROZENSET: 0x91,
  NEWOBJ_EX: 0x92,
  STACK_GLOBAL: 0x93,
  MEMOIZE: 0x94,
  FRAME: 0x95
} as const

const MAX_PROTOCOL = 5
const utf8 = new TextDecoder('utf-8')

/** Python 2 module names that Python 3 maps to new ones (the subset that matters here). */
const PY2_MODULES: Record<string, string> = { __builtin__: 'builtins', copy_reg: 'copyreg' }

/** Globals every pickle may use, resolved unless the caller's resolver handles them first. */
const BUILTIN_GLOBALS: Record<string, PickleCallable> = {
  'collections.OrderedDict': args => newOrderedDict(args),
  'builtins.set': args => new Set(iterableArg(args, 'set')),
  'builtins.frozenset': args => new Set(iterableArg(args, 'frozenset')),
  'builtins.bytes': args => bytesFromArgs(args),
  '_codecs.encode': args => codecsEncode(args)
}

function newOrderedDict(args: readonly unknown[]): Map<unknown, unknown> {
  const map = new Map<unknown, unknown>()
  for (const pair of iterableArg(args, 'OrderedDict')) {
    if (!Array.isArray(pair) || pair.length !== 2) throw new Error('OrderedDict(...) expects (key, value) pairs')
    map.set(pair[0], pair[1])
  }
  return map
}

function iterableArg(args: readonly unknown[], what: string): Iterable<unknown> {
  if (args.length === 0) return []
  const items = args[0]
  if (Array.isArray(items) || items instanceof Set) return items
  throw new Error(`${what}(...) expects a list, tuple or set argument`)
}

function bytesFromArgs(args: readonly unknown[]): Uint8Array {
  if (args.length === 0) return new Uint8Array(0)
  return codecsEncode(args)
}

function codecsEncode(args: readonly unknown[]): Uint8Array {
  const [text, encoding] = args
  if (typeof text !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1')) {
    throw new Error(
      `only _codecs.encode(str, 'latin1') (how protocol 2 spells bytes) is supported, got encoding ${String(encoding)}`
    )
  }
  return new Uint8Array(Buffer.from(text, 'latin1'))
}

class Unpickler {
  private pos = 0
  /** Start of the opcode being executed, for error messages. */
  private opStart = 0
  private stack: unknown[] = []
  private readonly metastack: unknown[][] = []
  private readonly memo = new Map<number, unknown>()
  private readonly view: DataView
  private readonly source: string

  constructor(
    private readonly data: Uint8Array,
    private readonly options: UnpickleOptions
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength)
    this.source = options.source ?? 'pickle'
  }

  load(): unknown {
    for (;;) {
      this.opStart = this.pos
      const op = this.u8()
      if (op === OP.STOP) return this.pop()
      this.dispatch(op)
    }
  }

  private fail(message: string, cause?: unknown): never {
    const where = `opcode 0x${hex(this.data[this.opStart])} at byte offset ${this.opStart}`
    throw new Error(`${this.source}: ${message} (${where})`, cause === undefined ? undefined : { cause })
  }

  private dispatch(op: number): void {
    switch (op) {
      case OP.PROTO:
        return this.proto()
      case OP.FRAME:
        return void this.take(8)
      case OP.MARK:
        return this.mark()
      case OP.POP:
        return void this.pop()
      case OP.POP_MARK:
        return void this.popMark()
      case OP.DUP:
        return this.push(this.top())
      case OP.NONE:
        return this.push(null)
      case OP.NEWTRUE:
        return this.push(true)
      case OP.NEWFALSE:
        return this.push(false)
      case OP.BININT:
        return this.push(this.view.getInt32(this.skip(4), true))
      case OP.BININT1:
        return this.push(this.u8())
      case OP.BININT2:
        return this.push(this.view.getUint16(this.skip(2), true))
      case OP.LONG1:
        return this.push(decodeLong(this.take(this.u8())))
      case OP.LONG4:
        return this.push(decodeLong(this.take(this.i32Length())))
      case OP.BINFLOAT:
        return this.push(this.view.getFloat64(this.skip(8), false))
      case OP.SHORT_BINUNICODE:
        return this.push(utf8.decode(this.take(this.u8())))
      case OP.BINUNICODE:
        return this.push(utf8.decode(this.take(this.view.getUint32(this.skip(4), true))))
      case OP.BINUNICODE8:
        return this.push(utf8.decode(this.take(this.u64Length())))
      case OP.SHORT_BINSTRING:
        return this.push(utf8.decode(this.take(this.u8())))
      case OP.BINSTRING:
        return this.push(utf8.decode(this.take(this.i32Length())))
      case OP.SHORT_BINBYTES:
        return this.push(this.take(this.u8()).slice())
      case OP.BINBYTES:
        return this.push(this.take(this.view.getUint32(this.skip(4), true)).slice())
      case OP.BINBYTES8:
        return this.push(this.take(this.u64Length()).slice())
      case OP.EMPTY_DICT:
        return this.push(new Map())
      case OP.DICT:
        return this.push(this.setItems(new Map(), this.popMark()))
      case OP.EMPTY_LIST:
        return this.push([])
      case OP.LIST:
        return this.push(this.popMark())
      case OP.EMPTY_TUPLE:
        return this.push(Object.freeze([]))
      case OP.TUPLE:
        return this.push(Object.freeze(this.popMark()))
      case OP.TUPLE1:
        return this.push(Object.freeze(this.popN(1)))
      case OP.TUPLE2:
        return this.push(Object.freeze(this.popN(2)))
      case OP.TUPLE3:
        return this.push(Object.freeze(this.popN(3)))
      case OP.EMPTY_SET:
        return this.push(new Set())
      case OP.ADDITEMS:
        return this.addItems()
      case OP.FROZENSET:
        return this.push(new Set(this.popMark()))
      case OP.APPEND:
        return this.append(this.popN(1))
      case OP.APPENDS:
        return this.append(this.popMark())
      case OP.SETITEM:
        return this.setItemsOnTop(this.popN(2))
      case OP.SETITEMS:
        return this.setItemsOnTop(this.popMark())
      case OP.BINPUT:
        return this.put(this.u8())
      case OP.LONG_BINPUT:
        return this.put(this.view.getUint32(this.skip(4), true))
      case OP.MEMOIZE:
        return this.put(this.memo.size)
      case OP.BINGET:
        return this.get(this.u8())
      case OP.LONG_BINGET:
        return this.get(this.view.getUint32(this.skip(4), true))
      case OP.GLOBAL:
        return this.push(this.findGlobal(this.line(), this.line()))
      case OP.STACK_GLOBAL:
        return this.stackGlobal()
      case OP.REDUCE:
        return this.reduce()
      case OP.BUILD:
        return this.build()
      case OP.NEWOBJ:
        return this.newObj(false)
      case OP.NEWOBJ_EX:
        return this.newObj(true)
      case OP.BINPERSID:
        return this.push(this.persistentLoad(this.pop()))
      case OP.PERSID:
        return this.push(this.persistentLoad(this.line()))
      default:
        this.fail(
          `unsupported pickle opcode 0x${hex(op)}${printable(op)}; the data is corrupt or uses a pickle feature this reader does not know`
        )
    }
  }

  // --- reading the byte stream ---

  private skip(n: number): number {
    if (this.pos + n > this.data.length) {
      this.fail(
        `the pickle data ends unexpectedly: ${n} more bytes needed at byte offset ${this.pos}, only ${this.data.length - this.pos} left`
      )
    }
    const at = this.pos
    this.pos += n
    return at
  }

  private take(n: number): Uint8Array {
    const at = this.skip(n)
    return this.data.subarray(at, at + n)
  }

  private u8(): number {
    return this.data[this.skip(1)]
  }

  private i32Length(): number {
    const n = this.view.getInt32(this.skip(4), true)
    if (n < 0) this.fail(`negative length ${n}`)
    return n
  }

  private u64Length(): number {
    const n = this.view.getBigUint64(this.skip(8), true)
    if (n > BigInt(this.data.length)) this.fail(`length ${n} exceeds the pickle data`)
    return Number(n)
  }

  /** A newline-terminated ASCII/UTF-8 argument (GLOBAL, PERSID). */
  private line(): string {
    const end = this.data.indexOf(0x0a, this.pos)
    if (end < 0) this.fail('the pickle data ends inside a text argument (no newline)')
    const text = utf8.decode(this.data.subarray(this.pos, end))
    this.pos = end + 1
    return text
  }

  // --- the stack ---

  private push(value: unknown): void {
    this.stack.push(value)
  }

  private pop(): unknown {
    if (this.stack.length === 0) this.fail('stack underflow (nothing to pop since the last MARK)')
    return this.stack.pop()
  }

  private top(): unknown {
    if (this.stack.length === 0) this.fail('stack underflow (nothing on the stack)')
    return this.stack[this.stack.length - 1]
  }

  private popN(n: number): unknown[] {
    if (this.stack.length < n) this.fail(`stack underflow (${n} items needed, ${this.stack.length} available)`)
    return this.stack.splice(this.stack.length - n, n)
  }

  private mark(): void {
    this.metastack.push(this.stack)
    this.stack = []
  }

  private popMark(): unknown[] {
    const items = this.stack
    const previous = this.metastack.pop()
    if (!previous) this.fail('no MARK to pop back to')
    this.stack = previous
    return items
  }

  // --- opcodes with some logic ---

  private proto(): void {
    const version = this.u8()
    if (version > MAX_PROTOCOL) this.fail(`pickle protocol ${version} is newer than the supported ${MAX_PROTOCOL}`)
  }

  private put(index: number): void {
    this.memo.set(index, this.top())
  }

  private get(index: number): void {
    if (!this.memo.has(index)) this.fail(`memo key ${index} was never stored`)
    this.push(this.memo.get(index))
  }

  private stackGlobal(): void {
    const [module, name] = this.popN(2)
    if (typeof module !== 'string' || typeof name !== 'string')
      this.fail('STACK_GLOBAL needs two strings (module, name)')
    this.push(this.findGlobal(module, name))
  }

  private findGlobal(rawModule: string, name: string): unknown {
    const module = PY2_MODULES[rawModule] ?? rawModule
    const resolved = this.options.resolveGlobal?.(module, name)
    if (resolved !== undefined) return resolved
    return BUILTIN_GLOBALS[`${module}.${name}`] ?? new PickleGlobal(module, name)
  }

  private persistentLoad(pid: unknown): unknown {
    if (!this.options.persistentLoad)
      this.fail('the pickle has a persistent id, but no persistentLoad function was given')
    try {
      return this.options.persistentLoad(pid)
    } catch (e) {
      this.fail((e as Error).message, e)
    }
  }

  private reduce(): void {
    const args = this.pop()
    const callable = this.pop()
    if (!Array.isArray(args)) this.fail('REDUCE needs an argument tuple')
    this.push(this.call(callable, args))
  }

  private newObj(withKwargs: boolean): void {
    const kwargs = withKwargs ? this.pop() : undefined
    const args = this.pop()
    const cls = this.pop()
    if (!Array.isArray(args)) this.fail('NEWOBJ needs an argument tuple')
    if (kwargs !== undefined && !(kwargs instanceof Map)) this.fail('NEWOBJ_EX needs a keyword-argument dict')
    this.push(this.call(cls, args, kwargs))
  }

  private call(callable: unknown, args: readonly unknown[], kwargs?: Map<unknown, unknown>): unknown {
    if (callable instanceof PickleGlobal) return new PickleObject(callable, args, kwargs)
    if (typeof callable !== 'function') this.fail(`cannot call ${describe(callable)}: it is not a class or function`)
    try {
      return (callable as PickleCallable)(args, kwargs)
    } catch (e) {
      this.fail((e as Error).message, e)
    }
  }

  private build(): void {
    const state = this.pop()
    const obj = this.top()
    if (obj instanceof PickleObject) obj.state = state
    else if (typeof obj === 'object' && obj !== null) sideState.set(obj, state)
    else this.fail(`BUILD cannot set state on ${describe(obj)}`)
  }

  private append(items: unknown[]): void {
    const target = this.top()
    if (Array.isArray(target) && !Object.isFrozen(target)) target.push(...items)
    else if (target instanceof PickleObject) target.listItems.push(...items)
    else this.fail(`cannot append to ${describe(target)}`)
  }

  private setItemsOnTop(items: unknown[]): void {
    const target = this.top()
    if (target instanceof Map) this.setItems(target, items)
    else if (target instanceof PickleObject) this.setItems(target.dictItems, items)
    else this.fail(`cannot set items on ${describe(target)}`)
  }

  private setItems(map: Map<unknown, unknown>, items: unknown[]): Map<unknown, unknown> {
    if (items.length % 2 !== 0) this.fail(`odd number of items (${items.length}) for key/value pairs`)
    for (let i = 0; i < items.length; i += 2) map.set(items[i], items[i + 1])
    return map
  }

  private addItems(): void {
    const items = this.popMark()
    const target = this.top()
    if (!(target instanceof Set)) this.fail(`cannot add items to ${describe(target)}`)
    for (const item of items) target.add(item)
  }
}

/** A little-endian two's complement integer, as a number when it is safe, else a bigint. */
function decodeLong(bytes: Uint8Array): number | bigint {
  let value = 0n
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i])
  if (bytes.length > 0 && bytes[bytes.length - 1] & 0x80) value -= 1n << BigInt(8 * bytes.length)
  const small = Number(value)
  return Number.isSafeInteger(small) ? small : value
}

function hex(byte: number | undefined): string {
  return (byte ?? 0).toString(16).padStart(2, '0')
}

function printable(byte: number): string {
  return byte >= 0x20 && byte < 0x7f ? ` ('${String.fromCharCode(byte)}')` : ''
}

function describe(value: unknown): string {
  if (value === null) return 'None'
  if (value instanceof Map) return 'a dict'
  if (value instanceof PickleObject) return `an object of ${value.cls.toString()}`
  if (Array.isArray(value)) return isTuple(value) ? 'a tuple' : 'a list'
  return typeof value === 'object' ? 'an object' : `a ${typeof value} (${String(value)})`
}
