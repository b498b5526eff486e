/**
 * A generated sequence beside the sequence it came from (steering's parent, an experiment's start), each in the
 * protein view: the parent as the project's protein when it is one (annotations, structures), else as an unstored
 * sequence; de novo sequences have no parent.
 */
import type { ProteinSource } from '../protein/ProteinView'
import { ProteinView } from '../protein/ProteinView'

export interface ShownSequence {
  id: string
  sequence: string
}

export function BesideParent({
  projectId,
  parent,
  parentStored,
  parentTitle,
  child,
  childTitle,
  featureId,
  onOpenFeature
}: {
  projectId: string
  parent: ShownSequence | null | undefined
  /** The parent is a protein of the project (its id is the accession). */
  parentStored: boolean
  parentTitle: string
  child: ShownSequence
  childTitle: string
  /** The feature whose activations the two views show. */
  featureId: number | undefined
  onOpenFeature: (feature: number) => void
}) {
  const parentSource: ProteinSource | null = !parent
    ? null
    : parentStored
      ? { kind: 'stored', protein: parent.id }
      : { kind: 'unstored', name: parent.id, sequence: parent.sequence }
  return (
    <div className="steer-compare">
      <div>
        <h3>{parentTitle}</h3>
        {parentSource && (
          <ProteinView
            projectId={projectId}
            source={parentSource}
            featureId={featureId}
            onPickSource={() => undefined}
            onOpenFeature={onOpenFeature}
          />
        )}
      </div>
      <div>
        <h3>{childTitle}</h3>
        <ProteinView
          projectId={projectId}
          source={{ kind: 'unstored', name: child.id, sequence: child.sequence }}
          featureId={featureId}
          onPickSource={() => undefined}
          onOpenFeature={onOpenFeature}
        />
      </div>
    </div>
  )
}
