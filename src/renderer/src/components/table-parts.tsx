/** Small pieces every table and picker of the views repeats: a header row, and a select's options from a list. */
import type { ReactNode } from 'react'

/** A header cell: its text, or its text with a tooltip. '' is an empty cell (a column of buttons). */
export type HeaderCell = string | { label: string; title: string }

/** `<thead>` with one row of header cells. */
export function TableHead({ columns }: { columns: readonly HeaderCell[] }): ReactNode {
  return (
    <thead>
      <tr>
        {columns.map((c, i) =>
          typeof c === 'string' ? (
            <th key={i}>{c || null}</th>
          ) : (
            <th key={i} title={c.title}>
              {c.label}
            </th>
          )
        )}
      </tr>
    </thead>
  )
}

/** `<option>`s of a list, each shown by its label; `id` gives an item's value (default: the item itself). */
export function OptionsOf<T>({
  values,
  label,
  id = v => String(v)
}: {
  values: readonly T[]
  label: (value: T) => string
  id?: (value: T) => string
}): ReactNode {
  return values.map(v => (
    <option key={id(v)} value={id(v)}>
      {label(v)}
    </option>
  ))
}
