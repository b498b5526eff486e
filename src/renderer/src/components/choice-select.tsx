/**
 * A select over a typed list of choices: each option's value is the choice and its text `labels[choice]`, and
 * `onChange` receives the choice as its type (no cast at the call site).
 */
import type { ReactNode } from 'react'

export function ChoiceSelect<T extends string>({
  value,
  choices,
  labels,
  onChange,
  testId
}: {
  value: T
  choices: readonly T[]
  labels: Record<T, string>
  onChange: (choice: T) => void
  testId?: string
}): ReactNode {
  return (
    <select
      value={value}
      onChange={e => {
        const choice = choices.find(c => c === e.target.value)
        if (choice !== undefined) onChange(choice)
      }}
      data-testid={testId}
    >
      {choices.map(c => (
        <option key={c} value={c}>
          {labels[c]}
        </option>
      ))}
    </select>
  )
}
