-- Assessments: one row per `rsp assess` that reached a determination. Triggers
-- ("compute grew 4x since the last comprehensive assessment") and `rsp status`
-- read the latest one per model; the full report is the JSON document.
CREATE TABLE assessments (
    id             TEXT PRIMARY KEY NOT NULL,
    model          TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    compute_flop   REAL,
    comprehensive  INTEGER NOT NULL CHECK (comprehensive IN (0, 1)),
    policy_sha256  TEXT NOT NULL CHECK (length(policy_sha256) = 64),
    decision_id    TEXT,
    report         TEXT NOT NULL CHECK (json_valid(report))
) STRICT;
CREATE INDEX assessments_by_model ON assessments (model, created_at);

CREATE TRIGGER assessments_no_update BEFORE UPDATE OF report, model, created_at, policy_sha256 ON assessments
BEGIN
    SELECT RAISE(ABORT, 'assessments are immutable');
END;
