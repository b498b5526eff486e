/**
 * The lowest F1 at which a feature's best concept is shown as a finding. Below it a concept chip is muted (or
 * left out), and the concept filters and sorts treat the feature as having no concept. Users can change it;
 * this is the default.
 */
export const DEFAULT_CONCEPT_F1_FLOOR = 0.2
