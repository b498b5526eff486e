/**
 * The lowest concept F1 at which a feature is taken to "mean" a concept. Below it a concept chip is muted (or
 * left out), the concept filters and sorts treat the feature as having no concept, and the association is too
 * weak to name the feature in its generated label card or to predict annotations on new sequences. Users can
 * change it; this is the default.
 */
export const DEFAULT_CONCEPT_F1_FLOOR = 0.2
