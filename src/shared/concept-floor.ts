/**
 * The lowest concept F1 at which a feature is taken to "mean" a concept: below it, a concept association is
 * too weak to name a feature in its generated label card, or to predict annotations on new sequences.
 */
export const DEFAULT_CONCEPT_F1_FLOOR = 0.2
