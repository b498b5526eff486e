/**
 * The SAE picker of the model library: when a hub repository holds several SAEs (InterProt's one file per
 * layer, SAELens folders, InterPLM layer_N folders, …), "List SAEs" asks the engine for them (`listHubSaes`:
 * from the repository's file list, nothing downloaded) and shows each with its format, input width, latents,
 * layer and k where known; "Add" registers the chosen one as a library entry (its subfolder and file),
 * downloaded later like any entry.
 */
import { useState, type ReactNode } from 'react'
import { api } from '@renderer/api'
import type { HubSaeListing, SaeListingChoice } from '@shared/library-types'

function place(c: SaeListingChoice): string {
  return [c.subfolder, c.file].filter(Boolean).join('/') || '(the repository root)'
}

const known = (n: number | undefined): string => (n === undefined ? '?' : String(n))

export function SaePicker({
  repo,
  baseModelId,
  run
}: {
  /** The repository id typed in the add form. */
  repo: string
  baseModelId?: string
  run(f: () => Promise<unknown>): void
}): ReactNode {
  const [listing, setListing] = useState<HubSaeListing>()
  const [error, setError] = useState<string>()
  const [busy, setBusy] = useState(false)
  const list = (): void => {
    setBusy(true)
    setError(undefined)
    setListing(undefined)
    api.listHubSaes({ repo: repo.trim() }).then(
      l => {
        setListing(l)
        setBusy(false)
      },
      (e: Error) => {
        setError(e.message)
        setBusy(false)
      }
    )
  }
  const shown = listing !== undefined && listing.repo === repo.trim() ? listing : undefined
  return (
    <div className="sae-picker" data-testid="sae-picker">
      <button disabled={!repo.trim() || busy} onClick={list} data-testid="list-saes">
        {busy ? 'Listing…' : 'List SAEs'}
      </button>
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      {shown && shown.choices.length === 0 && (
        <p className="muted" data-testid="sae-picker-empty">
          No SAE that a registered format recognises from its file names in {shown.repo}: add the repository (or its
          folder) with its format instead.
        </p>
      )}
      {shown && shown.choices.length > 0 && (
        <table className="table small" data-testid="sae-choices">
          <caption>
            {shown.choices.length} SAE{shown.choices.length === 1 ? '' : 's'} in {shown.repo} (revision {shown.revision}
            , commit {shown.sha.slice(0, 10)})
          </caption>
          <thead>
            <tr>
              <th>SAE</th>
              <th>Format</th>
              <th>d</th>
              <th>Width</th>
              <th>Layer</th>
              <th>k</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {shown.choices.map(c => (
              <tr key={place(c)} data-testid="sae-choice">
                <td>{place(c)}</td>
                <td>{c.format}</td>
                <td>{known(c.dIn)}</td>
                <td>{known(c.dSae)}</td>
                <td>{known(c.layer)}</td>
                <td>{known(c.k)}</td>
                <td>
                  <button
                    onClick={() =>
                      run(() =>
                        api.addModel({
                          kind: 'sae',
                          source: 'hub',
                          repo: shown.repo,
                          ...(shown.revision !== 'main' ? { revision: shown.revision } : {}),
                          ...(c.subfolder ? { subfolder: c.subfolder } : {}),
                          ...(c.file ? { file: c.file } : {}),
                          saeFormat: c.format,
                          ...(c.layer !== undefined ? { layer: c.layer } : {}),
                          ...(baseModelId ? { baseModelId } : {})
                        })
                      )
                    }
                  >
                    Add
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  )
}
