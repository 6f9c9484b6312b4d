-- CSV imports run as jobs, so that their progress is visible from any app
-- instance; activities get an external id so that imports are idempotent.

CREATE TABLE import_jobs (
    org_id BLOB NOT NULL REFERENCES orgs (id),
    id BLOB NOT NULL,
    user_id BLOB NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('companies', 'contacts', 'leads', 'prospects', 'activities')),
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    dry_run BOOLEAN NOT NULL,
    skip_invalid BOOLEAN NOT NULL,
    list_id BLOB,
    file_name TEXT NOT NULL DEFAULT '',
    rows_total BIGINT NOT NULL DEFAULT 0,
    rows_done BIGINT NOT NULL DEFAULT 0,
    created_count BIGINT NOT NULL DEFAULT 0,
    updated_count BIGINT NOT NULL DEFAULT 0,
    skipped_count BIGINT NOT NULL DEFAULT 0,
    error_count BIGINT NOT NULL DEFAULT 0,
    report TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
CREATE INDEX import_jobs_user ON import_jobs (org_id, user_id, created_at);

ALTER TABLE activities ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX activities_external_id ON activities (org_id, external_id);
