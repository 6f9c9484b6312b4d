-- Activity types (call, e-mail, meeting, ...) and their outcomes.

CREATE TABLE activity_types (
    org_id BLOB NOT NULL REFERENCES orgs (id),
    id BLOB NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('call', 'email', 'email_received', 'meeting', 'proposal', 'task', 'other')),
    colour TEXT NOT NULL,
    icon TEXT NOT NULL,
    counts_as_selling BOOLEAN NOT NULL,
    archived BOOLEAN NOT NULL DEFAULT 0,
    position INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, name)
);

CREATE TABLE activity_outcomes (
    org_id BLOB NOT NULL,
    id BLOB NOT NULL,
    type_id BLOB NOT NULL,
    name TEXT NOT NULL,
    colour TEXT NOT NULL,
    positive BOOLEAN NOT NULL,
    archived BOOLEAN NOT NULL DEFAULT 0,
    position INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, type_id, name),
    FOREIGN KEY (org_id, type_id) REFERENCES activity_types (org_id, id) ON DELETE CASCADE
);
CREATE INDEX activity_outcomes_type ON activity_outcomes (org_id, type_id, position);
