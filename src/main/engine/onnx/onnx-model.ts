/**
 * ONNX models built in TypeScript: a small graph builder over the ONNX protobuf schema (onnx.proto3).
 * Field numbers are those of onnx.proto; only what our graphs use is encoded.
 */
import { existsSync } from 'node:fs'
import { writeFileAtomic } from '../fs/files'
import { ProtoWriter } from './protobuf'

export const ONNX_IR_VERSION = 8
export const ONNX_OPSET = 18
/** Opset versions of the non-standard domains a graph may use. */
const CONTRIB_OPSET: Record<string, number> = { 'com.microsoft': 1 }

export enum ElemType {
  FLOAT = 1,
  INT32 = 6,
  INT64 = 7,
  BOOL = 9
}

export type Dim = number | string

export interface ValueInfo {
  name: string
  elemType: ElemType
  shape: Dim[]
}

/** Where an initializer's bytes live: in the model file itself, or in an external data file. */
export type TensorData =
  { kind: 'raw'; bytes: Uint8Array } | { kind: 'external'; location: string; offset: number; length: number }

export interface Initializer {
  name: string
  elemType: ElemType
  dims: number[]
  data: TensorData
}

export type Attribute =
  | { type: 'int'; value: number }
  | { type: 'float'; value: number }
  | { type: 'ints'; value: number[] }
  | { type: 'graph'; value: GraphDef }
  | { type: 'string'; value: string }

export interface NodeDef {
  opType: string
  inputs: string[]
  outputs: string[]
  name: string
  domain?: string
  attributes?: Record<string, Attribute>
}

export interface GraphDef {
  name: string
  nodes: NodeDef[]
  initializers: Initializer[]
  inputs: ValueInfo[]
  outputs: ValueInfo[]
}

function encodeValueInfo(v: ValueInfo): ProtoWriter {
  const shape = new ProtoWriter()
  for (const d of v.shape) {
    const dim = new ProtoWriter()
    if (typeof d === 'number') dim.int(1, d)
    else dim.string(2, d)
    shape.message(1, dim)
  }
  const tensorType = new ProtoWriter().int(1, v.elemType).message(2, shape)
  const type = new ProtoWriter().message(1, tensorType)
  return new ProtoWriter().string(1, v.name).message(2, type)
}

function encodeInitializer(t: Initializer): ProtoWriter {
  const w = new ProtoWriter()
  if (t.dims.length > 0) w.packedInts(1, t.dims)
  w.int(2, t.elemType)
  w.string(8, t.name)
  if (t.data.kind === 'raw') {
    w.bytes(9, t.data.bytes)
  } else {
    const entry = (k: string, v: string) => new ProtoWriter().string(1, k).string(2, v)
    w.message(13, entry('location', t.data.location))
    w.message(13, entry('offset', String(t.data.offset)))
    w.message(13, entry('length', String(t.data.length)))
    w.int(14, 1) // DataLocation.EXTERNAL
  }
  return w
}

function encodeAttribute(name: string, a: Attribute): ProtoWriter {
  const w = new ProtoWriter().string(1, name)
  switch (a.type) {
    case 'float':
      return w.float(2, a.value).int(20, 1)
    case 'int':
      return w.int(3, a.value).int(20, 2)
    case 'string':
      return w.string(4, a.value).int(20, 3)
    case 'ints':
      return w.packedInts(8, a.value).int(20, 7)
    case 'graph':
      return w.message(6, encodeGraph(a.value)).int(20, 5)
  }
}

function encodeNode(n: NodeDef): ProtoWriter {
  const w = new ProtoWriter()
  for (const i of n.inputs) w.string(1, i)
  for (const o of n.outputs) w.string(2, o)
  w.string(3, n.name)
  w.string(4, n.opType)
  for (const [k, a] of Object.entries(n.attributes ?? {})) w.message(5, encodeAttribute(k, a))
  if (n.domain) w.string(7, n.domain)
  return w
}

function encodeGraph(graph: GraphDef): ProtoWriter {
  const g = new ProtoWriter()
  for (const n of graph.nodes) g.message(1, encodeNode(n))
  g.string(2, graph.name)
  for (const t of graph.initializers) g.message(5, encodeInitializer(t))
  for (const v of graph.inputs) g.message(11, encodeValueInfo(v))
  for (const v of graph.outputs) g.message(12, encodeValueInfo(v))
  return g
}

/** Every node of a graph and of its subgraphs (If branches). */
function allNodes(graph: GraphDef): NodeDef[] {
  return graph.nodes.flatMap(n => [
    n,
    ...Object.values(n.attributes ?? {}).flatMap(a => (a.type === 'graph' ? allNodes(a.value) : []))
  ])
}

export function encodeModel(graph: GraphDef, producerVersion: string): Uint8Array {
  const g = encodeGraph(graph)
  const model = new ProtoWriter()
    .int(1, ONNX_IR_VERSION)
    .string(2, 'plm-sae-workbench')
    .string(3, producerVersion)
    .message(7, g)
    .message(8, new ProtoWriter().string(1, '').int(2, ONNX_OPSET))
  // ONNX Runtime's contrib ops (MultiHeadAttention, RotaryEmbedding, ...) live in com.microsoft, version 1.
  const domains = new Set(
    allNodes(graph)
      .map(n => n.domain)
      .filter((d): d is string => Boolean(d))
  )
  for (const d of domains) model.message(8, new ProtoWriter().string(1, d).int(2, CONTRIB_OPSET[d] ?? 1))
  return model.finish()
}

function rawBytes(values: Float32Array | BigInt64Array | Int32Array): Uint8Array {
  return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength) as ArrayBuffer)
}

/**
 * Builds a graph node by node. Each op method returns the name of its (first) output, so graphs read as
 * expressions: `b.add(b.matMul(x, w), bias)`.
 */
export class GraphBuilder {
  readonly nodes: NodeDef[] = []
  readonly initializers: Initializer[] = []
  readonly inputs: ValueInfo[] = []
  readonly outputs: ValueInfo[] = []
  private counter = 0
  private readonly constCache = new Map<string, string>()

  /** `prefix` keeps the value names of a subgraph (an If branch) apart from those of its parent. */
  constructor(
    readonly name: string,
    private readonly prefix = ''
  ) {}

  private fresh(op: string): string {
    return `${this.prefix}${op.toLowerCase()}_${this.counter++}`
  }

  /**
   * `If(cond)`: each branch is built in a subgraph that may use any value of this graph by name and
   * returns its outputs (the same count and types in both branches); returns the If node's outputs.
   */
  ifElse(
    cond: string,
    outputs: { elemType: ElemType; shape: Dim[] }[],
    thenBranch: (g: GraphBuilder) => string[],
    elseBranch: (g: GraphBuilder) => string[]
  ): string[] {
    const branch = (label: string, build: (g: GraphBuilder) => string[]): GraphDef => {
      const id = this.counter++
      const g = new GraphBuilder(`${this.name}_${label}${id}`, `${this.prefix}${label}${id}/`)
      const values = build(g)
      if (values.length !== outputs.length)
        throw new Error(`the ${label} branch returns ${values.length} values, expected ${outputs.length}`)
      values.forEach((v, i) =>
        g.output(v, `${this.prefix}${label}${id}/out${i}`, outputs[i].elemType, outputs[i].shape)
      )
      return g.build()
    }
    const thenGraph = branch('then', thenBranch)
    const elseGraph = branch('else', elseBranch)
    const outs = outputs.map(() => this.fresh('If'))
    this.nodes.push({
      opType: 'If',
      inputs: [cond],
      outputs: outs,
      name: `${this.prefix}If_${this.counter++}`,
      attributes: { then_branch: { type: 'graph', value: thenGraph }, else_branch: { type: 'graph', value: elseGraph } }
    })
    return outs
  }

  input(name: string, elemType: ElemType, shape: Dim[]): string {
    this.inputs.push({ name, elemType, shape })
    return name
  }

  output(valueName: string, name: string, elemType: ElemType, shape: Dim[]): void {
    if (valueName !== name) this.node('Identity', [valueName], { outputs: [name] })
    this.outputs.push({ name, elemType, shape })
  }

  initializer(init: Initializer): string {
    this.initializers.push(init)
    return init.name
  }

  /** A small constant embedded in the model; identical constants are shared. */
  constFloat(values: number[] | Float32Array, dims: number[]): string {
    const key = `f:${dims.join('x')}:${Array.from(values).join(',')}`
    const hit = key.length < 4096 ? this.constCache.get(key) : undefined
    if (hit) return hit
    const name = this.fresh('const')
    this.initializer({
      name,
      elemType: ElemType.FLOAT,
      dims,
      data: { kind: 'raw', bytes: rawBytes(Float32Array.from(values)) }
    })
    if (key.length < 4096) this.constCache.set(key, name)
    return name
  }

  constInt64(values: number[], dims: number[] = [values.length]): string {
    const key = `i:${dims.join('x')}:${values.join(',')}`
    const hit = this.constCache.get(key)
    if (hit) return hit
    const name = this.fresh('const')
    this.initializer({
      name,
      elemType: ElemType.INT64,
      dims,
      data: { kind: 'raw', bytes: rawBytes(BigInt64Array.from(values.map(BigInt))) }
    })
    this.constCache.set(key, name)
    return name
  }

  node(
    opType: string,
    inputs: string[],
    opts: { outputs?: string[] | number; attributes?: Record<string, Attribute>; domain?: string } = {}
  ): string {
    const outputs =
      typeof opts.outputs === 'number'
        ? Array.from({ length: opts.outputs }, () => this.fresh(opType))
        : (opts.outputs ?? [this.fresh(opType)])
    this.nodes.push({
      opType,
      inputs,
      outputs,
      name: `${this.prefix}${opType}_${this.counter++}`,
      attributes: opts.attributes,
      domain: opts.domain
    })
    return outputs[0]
  }

  nodeMulti(opType: string, inputs: string[], outputCount: number, attributes?: Record<string, Attribute>): string[] {
    const outputs = Array.from({ length: outputCount }, () => this.fresh(opType))
    this.nodes.push({ opType, inputs, outputs, name: `${this.prefix}${opType}_${this.counter++}`, attributes })
    return outputs
  }

  add(a: string, b: string): string {
    return this.node('Add', [a, b])
  }
  sub(a: string, b: string): string {
    return this.node('Sub', [a, b])
  }
  mul(a: string, b: string): string {
    return this.node('Mul', [a, b])
  }
  div(a: string, b: string): string {
    return this.node('Div', [a, b])
  }
  matMul(a: string, b: string): string {
    return this.node('MatMul', [a, b])
  }
  /** x·W + b, with W stored [in, out]. */
  linear(x: string, weight: string, bias?: string): string {
    const y = this.matMul(x, weight)
    return bias ? this.add(y, bias) : y
  }
  layerNorm(x: string, weight: string, bias: string, eps: number): string {
    return this.node('LayerNormalization', [x, weight, bias], {
      attributes: { axis: { type: 'int', value: -1 }, epsilon: { type: 'float', value: eps } }
    })
  }
  /** The exact (erf) GELU, written as the pattern ONNX Runtime fuses into one kernel. */
  gelu(x: string): string {
    const erf = this.node('Erf', [this.div(x, this.constFloat([Math.SQRT2], []))])
    return this.mul(this.mul(x, this.add(erf, this.constFloat([1], []))), this.constFloat([0.5], []))
  }
  reshape(x: string, shape: number[]): string {
    return this.node('Reshape', [x, this.constInt64(shape)])
  }
  transpose(x: string, perm: number[]): string {
    return this.node('Transpose', [x], { attributes: { perm: { type: 'ints', value: perm } } })
  }
  softmax(x: string, axis = -1): string {
    return this.node('Softmax', [x], { attributes: { axis: { type: 'int', value: axis } } })
  }
  cast(x: string, to: ElemType): string {
    return this.node('Cast', [x], { attributes: { to: { type: 'int', value: to } } })
  }
  unsqueeze(x: string, axes: number[]): string {
    return this.node('Unsqueeze', [x, this.constInt64(axes)])
  }
  gather(data: string, indices: string, axis = 0): string {
    return this.node('Gather', [data, indices], { attributes: { axis: { type: 'int', value: axis } } })
  }
  slice(x: string, starts: string, ends: string, axes: string): string {
    return this.node('Slice', [x, starts, ends, axes])
  }
  concat(xs: string[], axis: number): string {
    return this.node('Concat', xs, { attributes: { axis: { type: 'int', value: axis } } })
  }
  split(x: string, axis: number, sizes: number[]): string[] {
    return this.nodeMulti('Split', [x, this.constInt64(sizes)], sizes.length, { axis: { type: 'int', value: axis } })
  }
  reduceSum(x: string, axes: number[], keepDims = true): string {
    return this.node('ReduceSum', [x, this.constInt64(axes)], {
      attributes: { keepdims: { type: 'int', value: keepDims ? 1 : 0 } }
    })
  }
  equal(a: string, b: string): string {
    return this.node('Equal', [a, b])
  }
  relu(x: string): string {
    return this.node('Relu', [x])
  }

  build(): GraphDef {
    return {
      name: this.name,
      nodes: this.nodes,
      initializers: this.initializers,
      inputs: this.inputs,
      outputs: this.outputs
    }
  }
}

/**
 * Writes a graph's ONNX file once: when `path` does not exist, `build()` is encoded and written atomically, so a
 * crash never leaves a half-written graph. Returns `path`.
 */
export function writeGraphFileOnce(path: string, build: () => GraphDef, producer: string): string {
  if (!existsSync(path)) {
    writeFileAtomic(path, encodeModel(build(), producer))
  }
  return path
}
