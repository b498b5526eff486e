/**
 * The store's schema as a list of migrations. `schema_version` records every applied migration; opening a
 * store applies the missing ones in order, each in its own transaction. Never edit a released migration:
 * add a new one.
 */
import type Database from 'better-sqlite3'

export interface Migration {
  version: number
  description: string
  up: string
}

/**
 * The score columns of `feature_concepts` since migration 2 (migration 6 rebuilds the table with them): one
 * text, so both migrations spell them alike (migration 2's SQL is unchanged, byte for byte).
 */
const CONCEPT_SCORE_COLUMNS = `        threshold REAL NOT NULL,
        precision REAL NOT NULL,
        recall REAL NOT NULL,
        f1 REAL NOT NULL,
        tp INTEGER NOT NULL,
        predicted INTEGER NOT NULL,
        positives INTEGER NOT NULL,
        by_threshold TEXT NOT NULL,
`

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'proteins, runs, latents, per-feature labels',
    up: `
      CREATE TABLE proteins (
        id INTEGER PRIMARY KEY,
        accession TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL DEFAULT '',
        organism TEXT NOT NULL DEFAULT '',
        description TEXT NOT NULL DEFAULT '',
        sequence TEXT NOT NULL,
        length INTEGER NOT NULL,
        annotations TEXT NOT NULL DEFAULT '[]'
      );
      CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        model_name TEXT NOT NULL,
        model_hash TEXT NOT NULL,
        sae_name TEXT NOT NULL,
        sae_hash TEXT NOT NULL,
        layer INTEGER NOT NULL,
        d_sae INTEGER NOT NULL,
        settings TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL DEFAULT 'indexing',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (model_hash, sae_hash, layer)
      );
      CREATE TABLE latents (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        protein_id INTEGER NOT NULL REFERENCES proteins(id) ON DELETE CASCADE,
        rows INTEGER NOT NULL,
        nnz INTEGER NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (run_id, protein_id)
      );
      CREATE TABLE feature_labels (
        sae_hash TEXT NOT NULL,
        feature INTEGER NOT NULL,
        label TEXT NOT NULL DEFAULT '',
        notes TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL,
        PRIMARY KEY (sae_hash, feature)
      );
    `
  },
  {
    version: 2,
    description: 'protein source lines, per-feature statistics, examples and concept association',
    up: `
      ALTER TABLE proteins ADD COLUMN source_file TEXT NOT NULL DEFAULT '';
      ALTER TABLE proteins ADD COLUMN source_line INTEGER NOT NULL DEFAULT 0;
      CREATE TABLE run_stats (
        run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
        proteins INTEGER NOT NULL,
        residues INTEGER NOT NULL,
        annotated_proteins INTEGER NOT NULL,
        annotated_residues INTEGER NOT NULL,
        settings TEXT NOT NULL,
        computed_at TEXT NOT NULL
      );
      CREATE TABLE feature_stats (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        feature INTEGER NOT NULL,
        firing_residues INTEGER NOT NULL,
        firing_proteins INTEGER NOT NULL,
        freq_residue REAL NOT NULL,
        freq_protein REAL NOT NULL,
        max REAL NOT NULL,
        mean_nz REAL NOT NULL,
        std_nz REAL NOT NULL,
        dead INTEGER NOT NULL,
        best_type TEXT,
        best_f1 REAL NOT NULL DEFAULT 0,
        best_precision REAL NOT NULL DEFAULT 0,
        best_recall REAL NOT NULL DEFAULT 0,
        best_threshold REAL NOT NULL DEFAULT 0,
        concept_text TEXT NOT NULL DEFAULT '',
        hist_small TEXT NOT NULL,
        PRIMARY KEY (run_id, feature)
      ) WITHOUT ROWID;
      CREATE INDEX feature_stats_max ON feature_stats (run_id, max);
      CREATE INDEX feature_stats_freq_residue ON feature_stats (run_id, freq_residue);
      CREATE INDEX feature_stats_freq_protein ON feature_stats (run_id, freq_protein);
      CREATE INDEX feature_stats_mean ON feature_stats (run_id, mean_nz);
      CREATE INDEX feature_stats_f1 ON feature_stats (run_id, best_f1);
      CREATE TABLE feature_details (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        feature INTEGER NOT NULL,
        histogram TEXT NOT NULL,
        quantiles TEXT NOT NULL,
        examples BLOB NOT NULL,
        PRIMARY KEY (run_id, feature)
      );
      CREATE TABLE feature_concepts (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        feature INTEGER NOT NULL,
        type TEXT NOT NULL,
${CONCEPT_SCORE_COLUMNS}        PRIMARY KEY (run_id, feature, type)
      ) WITHOUT ROWID;
    `
  },
  {
    version: 4,
    description: 'steering experiments (design, conditions, every sequence with its outcomes) and steering runs',
    up: `
      CREATE TABLE experiments (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        design TEXT NOT NULL,
        provenance TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'running',
        summary TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE experiment_conditions (
        experiment_id TEXT NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        key TEXT NOT NULL,
        definition TEXT NOT NULL,
        PRIMARY KEY (experiment_id, idx)
      ) WITHOUT ROWID;
      CREATE TABLE experiment_sequences (
        experiment_id TEXT NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
        condition_idx INTEGER NOT NULL,
        seq_index INTEGER NOT NULL,
        start_id TEXT NOT NULL,
        sequence TEXT NOT NULL,
        outcomes TEXT NOT NULL,
        feature_means BLOB NOT NULL,
        PRIMARY KEY (experiment_id, condition_idx, seq_index)
      ) WITHOUT ROWID;
      CREATE TABLE steering_runs (
        id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        record TEXT NOT NULL
      );
    `
  },
  {
    version: 6,
    description: "concepts split by note, InterPLM's per-domain recall and F1, generated label cards",
    up: `
      CREATE TABLE feature_concepts_v6 (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        feature INTEGER NOT NULL,
        type TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        per_residue INTEGER NOT NULL DEFAULT 0,
${CONCEPT_SCORE_COLUMNS}        domain_threshold REAL,
        domain_precision REAL,
        domain_recall REAL,
        domain_f1 REAL,
        found_instances INTEGER,
        instances INTEGER,
        PRIMARY KEY (run_id, feature, type, note)
      ) WITHOUT ROWID;
      INSERT INTO feature_concepts_v6 (run_id, feature, type, threshold, precision, recall, f1, tp, predicted, positives, by_threshold)
        SELECT run_id, feature, type, threshold, precision, recall, f1, tp, predicted, positives, by_threshold FROM feature_concepts;
      DROP TABLE feature_concepts;
      ALTER TABLE feature_concepts_v6 RENAME TO feature_concepts;
      ALTER TABLE feature_stats ADD COLUMN best_note TEXT NOT NULL DEFAULT '';
      ALTER TABLE feature_stats ADD COLUMN best_domain_type TEXT;
      ALTER TABLE feature_stats ADD COLUMN best_domain_note TEXT NOT NULL DEFAULT '';
      ALTER TABLE feature_stats ADD COLUMN best_domain_f1 REAL NOT NULL DEFAULT 0;
      ALTER TABLE feature_stats ADD COLUMN best_domain_precision REAL NOT NULL DEFAULT 0;
      ALTER TABLE feature_stats ADD COLUMN best_domain_recall REAL NOT NULL DEFAULT 0;
      ALTER TABLE feature_stats ADD COLUMN best_domain_threshold REAL NOT NULL DEFAULT 0;
      ALTER TABLE feature_stats ADD COLUMN generated_label TEXT NOT NULL DEFAULT '';
      CREATE INDEX feature_stats_f1_domain ON feature_stats (run_id, best_domain_f1);
      ALTER TABLE feature_details ADD COLUMN label_card TEXT;
      ALTER TABLE run_stats ADD COLUMN concepts TEXT;
    `
  }
]

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version

export function currentSchemaVersion(db: Database.Database): number {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get()
  if (!exists) return 0
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null }
  return row.v ?? 0
}

/**
 * Brings the store to `target` (default: the latest). A store written by a newer version of the app is
 * refused rather than damaged.
 */
export function migrate(db: Database.Database, path: string, target = SCHEMA_VERSION): number {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)'
  )
  const current = currentSchemaVersion(db)
  if (current > SCHEMA_VERSION) {
    throw new Error(
      `${path}: this store has schema version ${current}, written by a newer PLM-SAE Workbench (this one reads up to ${SCHEMA_VERSION}); ` +
        'update the app, or index into a new store file'
    )
  }
  for (const m of MIGRATIONS) {
    if (m.version <= current || m.version > target) continue
    db.transaction(() => {
      db.exec(m.up)
      db.prepare('INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.description,
        new Date().toISOString()
      )
    })()
  }
  return currentSchemaVersion(db)
}
