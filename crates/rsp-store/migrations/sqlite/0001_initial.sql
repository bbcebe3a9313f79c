-- rsp project store, SQLite schema version 1.
--
-- Conventions:
-- * Timestamps are TEXT in one fixed-width UTC form, `YYYY-MM-DDTHH:MM:SS.fffffffffZ`, so that
--   text order is time order and indexes on them sort correctly.
-- * Dates are TEXT `YYYY-MM-DD`. JSON columns are TEXT holding serde_json output.
-- * Tables are STRICT so a wrongly typed value is an error, not a silent coercion.
-- * Enumerations are TEXT with CHECK constraints that mirror the Rust enums.

-- Models registry: one row per registered checkpoint, keyed by its short name.
CREATE TABLE models (
    name                   TEXT PRIMARY KEY NOT NULL,
    spec                   TEXT NOT NULL,
    base_url               TEXT,
    effective_compute_flop REAL,
    parameters             REAL,
    training_tokens        REAL,
    date                   TEXT,
    parent                 TEXT,
    notes                  TEXT,
    created_at             TEXT NOT NULL
) STRICT;

-- One task executed against one model with one config.
CREATE TABLE runs (
    id            TEXT PRIMARY KEY NOT NULL,
    model         TEXT NOT NULL,
    model_name    TEXT,
    suite         TEXT NOT NULL,
    task          TEXT NOT NULL,
    task_hash     TEXT NOT NULL,
    config        TEXT NOT NULL CHECK (json_valid(config)),
    provenance    TEXT NOT NULL CHECK (json_valid(provenance)),
    status        TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'interrupted')),
    created_at    TEXT NOT NULL,
    finished_at   TEXT,
    total_samples INTEGER NOT NULL CHECK (total_samples >= 0),
    summary       TEXT CHECK (summary IS NULL OR json_valid(summary)),
    source        TEXT NOT NULL CHECK (source IN ('native', 'inspect', 'lm-eval')),
    source_sha256 TEXT
) STRICT;

-- "Latest completed run for (model, suite, task, task_hash)" is an index range scan.
CREATE INDEX runs_by_key ON runs (model, suite, task, task_hash, status, created_at);
CREATE INDEX runs_by_time ON runs (created_at);

-- One scored sample of one epoch of a run.
--
-- Column order matters: SQLite reads a row's columns front to back, and a large transcript
-- in `output` spills into overflow pages. The columns that filters read (value, error,
-- metadata) therefore come before the bulky JSON so a filtered scan does not walk overflow
-- chains. No json_valid() CHECK here: the store writes serde_json output only, and the check
-- would re-parse every transcript on insert.
CREATE TABLE samples (
    run_id       TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    sample_id    TEXT NOT NULL,
    epoch        INTEGER NOT NULL CHECK (epoch >= 0),
    position     INTEGER NOT NULL CHECK (position >= 0),
    value        REAL,
    error        TEXT,
    retries      INTEGER NOT NULL CHECK (retries >= 0),
    timing_ms    REAL NOT NULL,
    completed_at TEXT NOT NULL,
    metadata     TEXT NOT NULL,
    scores       TEXT NOT NULL,
    usage        TEXT NOT NULL,
    target       TEXT NOT NULL,
    input        TEXT NOT NULL,
    output       TEXT NOT NULL,
    UNIQUE (run_id, sample_id, epoch)
) STRICT;

-- Keyset pagination walks this index: (run_id, position, epoch) is the fixed sample order,
-- and it must be unique for a cursor to be unambiguous.
CREATE UNIQUE INDEX samples_by_position ON samples (run_id, position, epoch);
-- Errored samples are rare, so "show me the errors" gets its own small partial index.
CREATE INDEX samples_errors ON samples (run_id, position, epoch) WHERE error IS NOT NULL;

-- Response cache: key is a caller-computed digest of everything that determines the answer.
CREATE TABLE response_cache (
    key        TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

-- Content-addressed artifacts referenced by ledger leaves.
CREATE TABLE artifacts (
    sha256     TEXT PRIMARY KEY NOT NULL CHECK (length(sha256) = 64),
    bytes      BLOB NOT NULL,
    media_type TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

-- Ledger leaves, in log order. `idx` is the leaf index in the Merkle tree.
CREATE TABLE leaves (
    idx             INTEGER PRIMARY KEY NOT NULL CHECK (idx >= 0),
    leaf            BLOB NOT NULL,
    leaf_hash       BLOB NOT NULL CHECK (length(leaf_hash) = 32),
    kind            TEXT NOT NULL,
    artifact_sha256 TEXT REFERENCES artifacts (sha256),
    created_at      TEXT NOT NULL
) STRICT;
CREATE INDEX leaves_by_kind ON leaves (kind, idx);

-- The log is append-only and gap-free whoever writes to the file: a leaf must take the next
-- index, and stored leaves and artifacts can never change.
CREATE TRIGGER leaves_contiguous BEFORE INSERT ON leaves
WHEN NEW.idx IS NOT (SELECT coalesce(max(idx) + 1, 0) FROM leaves)
BEGIN
    SELECT RAISE(ABORT, 'ledger leaves must be appended at the next index');
END;
CREATE TRIGGER leaves_no_update BEFORE UPDATE ON leaves
BEGIN
    SELECT RAISE(ABORT, 'ledger leaves are append-only');
END;
CREATE TRIGGER leaves_no_delete BEFORE DELETE ON leaves
BEGIN
    SELECT RAISE(ABORT, 'ledger leaves are append-only');
END;
CREATE TRIGGER artifacts_no_update BEFORE UPDATE ON artifacts
BEGIN
    SELECT RAISE(ABORT, 'artifacts are immutable');
END;

-- Signed tree heads (C2SP signed notes) in the order they were issued.
CREATE TABLE checkpoints (
    id         INTEGER PRIMARY KEY,
    size       INTEGER NOT NULL CHECK (size >= 0),
    text       TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

-- Evidence that a safeguard is in place, valid until `expires`.
CREATE TABLE attestations (
    id              TEXT PRIMARY KEY NOT NULL,
    safeguard       TEXT NOT NULL,
    evidence_sha256 TEXT NOT NULL,
    evidence_path   TEXT NOT NULL,
    by_role         TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    expires         TEXT NOT NULL
) STRICT;
CREATE INDEX attestations_by_safeguard ON attestations (safeguard, expires);

-- Deploy / train decisions. A final decision never changes.
CREATE TABLE decisions (
    id         TEXT PRIMARY KEY NOT NULL,
    model      TEXT NOT NULL,
    action     TEXT NOT NULL CHECK (action IN ('deploy', 'train')),
    params     TEXT NOT NULL CHECK (json_valid(params)),
    status     TEXT NOT NULL CHECK (status IN ('draft', 'final')),
    outcome    TEXT NOT NULL CHECK (json_valid(outcome)),
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX decisions_by_model ON decisions (model, created_at);
CREATE TRIGGER decisions_final_is_frozen BEFORE UPDATE ON decisions
WHEN OLD.status = 'final'
BEGIN
    SELECT RAISE(ABORT, 'a final decision cannot change');
END;

-- Role sign-offs on decisions.
CREATE TABLE signatures (
    decision_id TEXT NOT NULL REFERENCES decisions (id),
    role        TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    signature   TEXT NOT NULL,
    signed_at   TEXT NOT NULL,
    PRIMARY KEY (decision_id, role, public_key)
) STRICT;

-- Public keys registered for roles (a role may hold several over time).
CREATE TABLE keys (
    role       TEXT NOT NULL,
    public_key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (role, public_key)
) STRICT;

-- API tokens, stored only as hashes.
CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    role       TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
