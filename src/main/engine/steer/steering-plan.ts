/**
 * `SteeringPlan`: which SAE features are clamped, how and where, for one sequence length; `resolveSteeringPlan`
 * checks it against the SAE and the sequence and turns every clamp into token rows and an operation.
 *
 * Order matters only for clamps on the same feature and residues: they apply in the plan's order (a later
 * "set" overrides, "add" accumulates).
 */
import { parse } from '../../../shared/schema'
import { ClampListSchema, type ClampSpec } from '../../../shared/steering-types'

export interface SteeringPlan {
  clamps: ClampSpec[]
}

/** One clamp ready to apply: `set` f_j := value, or `add` f_j := f_j + value, on token rows [rowStart, rowEnd). */
export interface ResolvedClamp {
  feature: number
  op: 'set' | 'add'
  value: number
  /** Token rows (row r + 1 is residue r; `<cls>` is row 0 and is never included). */
  rowStart: number
  rowEnd: number
  /** The clamp as given (for reports). */
  spec: ClampSpec
}

export interface PlanContext {
  /** The SAE's width and name (for messages). */
  dSae: number
  saeName: string
  /** Residues of the sequence the plan is applied to. */
  residues: number
  /** The feature's max activation in the project (for `multiple-of-max`); undefined when the project does not know it. */
  maxActivation?: (feature: number) => number | undefined
}

/** Checks a plan (feature ids, values, ranges, max activations) and resolves it; errors name the clamp and say what to do. */
export function resolveSteeringPlan(plan: SteeringPlan, ctx: PlanContext): ResolvedClamp[] {
  parse(ClampListSchema, plan.clamps, 'clamps')
  return plan.clamps.map((c, i) => {
    const where = `clamp ${i + 1} (feature ${c.feature})`
    if (c.feature >= ctx.dSae) {
      throw new Error(
        `${where}: feature ${c.feature} does not exist: the SAE "${ctx.saeName}" has features 0 to ${ctx.dSae - 1}`
      )
    }
    let rowStart = 1
    let rowEnd = ctx.residues + 1
    if (c.range) {
      if (c.range.end > ctx.residues) {
        throw new Error(
          `${where}: residue range ${c.range.start}-${c.range.end} is outside the sequence, which has residues 1-${ctx.residues}`
        )
      }
      rowStart = c.range.start
      rowEnd = c.range.end + 1
    }
    let value = c.value
    let op: ResolvedClamp['op'] = 'set'
    if (c.mode === 'add-to-natural') op = 'add'
    else if (c.mode === 'multiple-of-max') {
      const max = ctx.maxActivation?.(c.feature)
      if (max === undefined) {
        throw new Error(
          `${where}: "multiple-of-max" needs the feature's max activation in the project, which is not known (index the project with this SAE first, or use an absolute value)`
        )
      }
      if (!(max > 0))
        throw new Error(
          `${where}: feature ${c.feature} never fires in the project (max activation ${max}), so a multiple of its max is 0; use an absolute value`
        )
      value = c.value * max
    }
    if (!Number.isFinite(value)) throw new Error(`${where}: the resolved value ${value} is not a finite number`)
    return { feature: c.feature, op, value, rowStart, rowEnd, spec: c }
  })
}
