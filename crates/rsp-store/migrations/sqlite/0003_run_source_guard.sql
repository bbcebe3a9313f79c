-- Runs gain a fourth source, `guard` (`rsp guard eval`). SQLite cannot alter a CHECK
-- constraint, so `runs` is rebuilt. The usual recipe turns foreign keys off first, but
-- sqlx runs every migration inside a transaction, where `PRAGMA foreign_keys` is a no-op
-- (and renaming a parent table rewrites its children's references while they are on).
-- `samples` references `runs` ON DELETE CASCADE, so dropping the old table deletes every
-- sample: they are set aside in a temporary table first and put back afterwards, in the
-- same transaction, so a failure anywhere leaves the store as it was.
-- tests/migrations.rs checks that runs and samples survive and foreign keys still hold.
CREATE TEMP TABLE samples_kept AS SELECT * FROM main.samples;

CREATE TABLE runs_new (
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
    source        TEXT NOT NULL CHECK (source IN ('native', 'inspect', 'lm-eval', 'guard')),
    source_sha256 TEXT
) STRICT;

INSERT INTO runs_new (id, model, model_name, suite, task, task_hash, config, provenance,
                      status, created_at, finished_at, total_samples, summary, source,
                      source_sha256)
SELECT id, model, model_name, suite, task, task_hash, config, provenance, status,
       created_at, finished_at, total_samples, summary, source, source_sha256
FROM runs;

DROP TABLE runs;
ALTER TABLE runs_new RENAME TO runs;

CREATE INDEX runs_by_key ON runs (model, suite, task, task_hash, status, created_at);
CREATE INDEX runs_by_time ON runs (created_at);

INSERT INTO main.samples SELECT * FROM temp.samples_kept;
DROP TABLE temp.samples_kept;
