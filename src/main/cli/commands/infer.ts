/**
 * `plm-sae infer`: runs ESM2 on a FASTA file and writes logits and hidden states to a safetensors file.
 * The output contract: float32 `<id>.logits` [T, 33] and `<id>.hidden.<L>` [T, hidden] per requested
 * layer, T = residues + 2 (the <cls> and <eos> rows included).
 * With `--sae <dir>`, also `<id>.latents` [T, d_sae], the SAE encoding at the SAE's layer (sae/latent-extractor.ts).
 */
import { Command } from 'commander'
import { existsSync, statSync } from 'node:fs'
import { tokenize } from '../../engine/esm/alphabet'
import { DEFAULT_BATCHING, DEFAULT_WINDOW, type SequenceInput } from '../../engine/esm/esm2-model'
import { openEsm2 } from '../../engine/esm/open-esm2'
import { readFasta } from '../../engine/io/fasta'
import { lineOptions, maxResiduesFromEnv } from '../../engine/io/protein-input'
import { describeProvider } from '../../engine/runtime/execution-provider'
import { SafetensorsWriter, type TensorDeclaration } from '../../engine/formats/safetensors'
import {
  addRuntimeOptions,
  addSaeOptions,
  helpExample,
  layerList,
  modelSourceFrom,
  positiveInt,
  saeLoadOptions,
  type SaeCliOptions,
  type RuntimeCliOptions
} from '../options'
import { Reporter } from '../reporter'
import { loadSaeFor } from '../../engine/sae/open-latent-source'
import { LatentExtractor } from '../../engine/sae/latent-extractor'
import { inferSteering, type InferSteering } from './steer'

interface InferOptions extends SaeCliOptions, RuntimeCliOptions {
  model: string
  fasta: string
  out: string
  layers?: number[]
  clamp: string[]
  window: number
  batchTokens: number
  quiet?: boolean
}

export function inferCommand(): Command {
  const cmd = new Command('infer')
    .description('Run ESM2 on the sequences of a FASTA file; write logits and hidden states to a safetensors file')
    .requiredOption(
      '--model <dir>',
      'a Hugging Face ESM2 checkpoint folder (config.json + model.safetensors or pytorch_model.bin), or a fair-esm .pt file'
    )
    .requiredOption('--fasta <file>', 'a FASTA file, plain or gzipped; the id of a record is the first word after ">"')
    .requiredOption(
      '--out <file>',
      'the safetensors file to write: <id>.logits [T, 33] and <id>.hidden.<L> [T, hidden], T = residues + 2'
    )
    .option(
      '--layers <list>',
      'hidden states to write, comma-separated (0 = embeddings, L = output of block L, the last one after the final LayerNorm)',
      layerList
    )
    .option(
      '--clamp <F=V>',
      "steer: set SAE feature F to V at every residue (repeatable; needs --sae); <id>.logits are then the steered model's (hidden states and latents stay unsteered)",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[]
    )
    .option(
      '--window <n>',
      'longest sequence run in one piece; longer ones are run in overlapping windows and stitched',
      positiveInt('--window'),
      DEFAULT_WINDOW
    )
    .option(
      '--batch-tokens <n>',
      'upper bound on batch size × padded length per run',
      positiveInt('--batch-tokens'),
      DEFAULT_BATCHING.maxBatchTokens
    )
    .option('-q, --quiet', 'print nothing but errors')
  addSaeOptions(
    cmd,
    false,
    "also write <id>.latents [T, d_sae], the SAE encoding of the hidden state at the SAE's layer"
  )
  helpExample(
    cmd,
    'plm-sae infer --model models/esm2_t6_8M_UR50D --fasta proteins.fasta --layers 4,6 --out hidden.safetensors'
  )
  addRuntimeOptions(cmd)
  return cmd.action(async (opts: InferOptions) => runInfer(opts))
}

async function readRecords(path: string): Promise<{ inputs: SequenceInput[]; residues: number }> {
  if (!existsSync(path) || !statSync(path).isFile()) throw new Error(`${path}: no such file`)
  const inputs: SequenceInput[] = []
  const seen = new Map<string, number>()
  let residues = 0
  const maxResidues = maxResiduesFromEnv()
  for await (const rec of readFasta(path, { ...lineOptions({ maxResidues }), maxResidues })) {
    if (rec.tooLong !== undefined) {
      throw new Error(
        `${path}:${rec.line}: sequence "${rec.id}" has more than ${maxResidues} residues; to accept longer sequences, set PLM_SAE_MAX_RESIDUES=N`
      )
    }
    const prev = seen.get(rec.id)
    if (prev !== undefined)
      throw new Error(
        `${path}:${rec.line}: sequence id "${rec.id}" appears twice (first at line ${prev}); ids name the output tensors and must be unique`
      )
    seen.set(rec.id, rec.line)
    let tokens: Int32Array
    try {
      tokens = tokenize(rec.sequence, rec.id)
    } catch (e) {
      throw new Error(`${path}:${rec.line}: ${(e as Error).message}`, { cause: e })
    }
    inputs.push({ id: rec.id, tokens })
    residues += tokens.length - 2
  }
  if (inputs.length === 0) throw new Error(`${path}: no FASTA records found`)
  return { inputs, residues }
}

export async function runInfer(opts: InferOptions): Promise<void> {
  const log = new Reporter(opts.quiet ?? false)
  const { inputs, residues } = await readRecords(opts.fasta)
  log.line(`${inputs.length} sequences, ${residues} residues from ${opts.fasta}`)
  const layers = [...new Set(opts.layers ?? [])]
  const model = await openEsm2({
    ...modelSourceFrom(opts, log),
    onImported: imported => {
      log.done()
      for (const l of layers) {
        if (l > imported.config.numLayers)
          throw new Error(
            `--layers: layer ${l} does not exist; ${imported.name} has layers 0 (embeddings) to ${imported.config.numLayers}`
          )
      }
    }
  })
  const imported = model.imported
  const c = imported.config
  const sae =
    opts.sae === undefined
      ? undefined
      : await loadSaeFor(model, {
          saeDir: opts.sae,
          sae: saeLoadOptions(opts),
          onSaeLoaded: loaded => {
            for (const note of loaded.notes ?? []) log.line(`SAE ${loaded.name}: ${note}`)
          }
        })
  const latents =
    sae === undefined
      ? undefined
      : await LatentExtractor.open(model, sae, { layer: opts.saeLayer }).catch(async (e: unknown) => {
          await model.close()
          throw e
        })
  let steering: InferSteering | undefined
  try {
    steering = inferSteering(model, sae, latents?.layer ?? opts.saeLayer, opts.clamp)
  } catch (e) {
    await latents?.close()
    await model.close()
    throw e
  }
  const tokensOf = new Map(inputs.map(s => [s.id, s.tokens]))
  const decls: TensorDeclaration[] = []
  for (const s of inputs) {
    const T = s.tokens.length
    decls.push({ name: `${s.id}.logits`, shape: [T, c.vocabSize] })
    for (const l of layers) decls.push({ name: `${s.id}.hidden.${l}`, shape: [T, c.hiddenSize] })
    if (latents) decls.push({ name: `${s.id}.latents`, shape: [T, latents.dSae] })
  }
  const writer = new SafetensorsWriter(opts.out, decls, {
    format: 'pt',
    producer: 'plm-sae infer',
    model: imported.name,
    model_sha256: imported.hash,
    layers: layers.join(','),
    ...(sae && latents
      ? { sae: sae.name, sae_format: sae.format, sae_sha256: sae.hash, sae_layer: String(latents.layer) }
      : {}),
    ...(steering ? { clamps: steering.clamps.map(k => `${k.feature}=${k.value}`).join(',') } : {})
  })
  const started = performance.now()
  try {
    for await (const out of model.forward(
      inputs,
      { hidden: layers, logits: true },
      {
        batching: { ...DEFAULT_BATCHING, maxBatchTokens: opts.batchTokens },
        onProgress: p => log.progress('inference', p.sequences, inputs.length)
      }
    )) {
      writer.put(`${out.id}.logits`, steering ? await steering.logits(tokensOf.get(out.id)!) : out.logits!)
      for (const l of layers) writer.put(`${out.id}.hidden.${l}`, out.hidden.get(l)!)
    }
    if (latents) {
      for await (const d of latents.dense(inputs, {
        onProgress: p => log.progress('SAE latents', p.sequences, inputs.length)
      }))
        writer.put(`${d.id}.latents`, d.values)
    }
    writer.finish()
  } catch (e) {
    writer.abort()
    throw e
  } finally {
    await latents?.close()
    await model.close()
  }
  log.done()
  const seconds = (performance.now() - started) / 1000
  log.line(`ran on ${model.provider ? describeProvider(model.provider) : 'cpu'}`)
  log.line(`wrote ${opts.out}: ${inputs.length} sequences, ${Math.round(residues / seconds)} residues/s`)
}
