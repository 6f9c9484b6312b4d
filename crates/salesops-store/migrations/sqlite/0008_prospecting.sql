-- Sales scripts (ordered questions), prospecting lists of cold prospects,
-- the answers given on calls, and activities on prospects.

CREATE TABLE scripts (
    org_id BLOB NOT NULL REFERENCES orgs (id),
    id BLOB NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    archived BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, name)
);

CREATE TABLE script_questions (
    org_id BLOB NOT NULL REFERENCES orgs (id),
    id BLOB NOT NULL,
    script_id BLOB NOT NULL,
    position INTEGER NOT NULL,
    text TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('text', 'choice', 'number')),
    choices TEXT NOT NULL DEFAULT '',
    archived BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, script_id) REFERENCES scripts (org_id, id) ON DELETE CASCADE
);
CREATE INDEX script_questions_script ON script_questions (org_id, script_id, position);

CREATE TABLE prospect_lists (
    org_id BLOB NOT NULL REFERENCES orgs (id),
    id BLOB NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    team_id BLOB,
    script_id BLOB,
    archived BOOLEAN NOT NULL DEFAULT FALSE,
    created_by BLOB NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, team_id) REFERENCES teams (org_id, id),
    FOREIGN KEY (org_id, script_id) REFERENCES scripts (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id)
);

CREATE TABLE prospect_list_reps (
    org_id BLOB NOT NULL REFERENCES orgs (id),
    list_id BLOB NOT NULL,
    user_id BLOB NOT NULL,
    PRIMARY KEY (org_id, list_id, user_id),
    FOREIGN KEY (org_id, list_id) REFERENCES prospect_lists (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
CREATE INDEX prospect_list_reps_user ON prospect_list_reps (org_id, user_id);

CREATE TABLE prospects (
    org_id BLOB NOT NULL REFERENCES orgs (id),
    id BLOB NOT NULL,
    list_id BLOB NOT NULL,
    position BIGINT NOT NULL,
    company_name TEXT,
    contact_name TEXT,
    job_title TEXT,
    phone TEXT,
    email TEXT,
    website TEXT,
    city TEXT,
    postcode TEXT,
    country TEXT,
    industry TEXT,
    notes TEXT,
    fields TEXT NOT NULL DEFAULT '{}',
    assigned_to BLOB,
    status TEXT NOT NULL CHECK (status IN ('open', 'converted', 'disqualified')),
    disqualify_reason TEXT,
    lead_id BLOB,
    company_id BLOB,
    contact_id BLOB,
    closed_at TEXT,
    external_id TEXT,
    search_text TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, list_id) REFERENCES prospect_lists (org_id, id),
    FOREIGN KEY (org_id, assigned_to) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, lead_id) REFERENCES leads (org_id, id),
    FOREIGN KEY (org_id, company_id) REFERENCES companies (org_id, id),
    FOREIGN KEY (org_id, contact_id) REFERENCES contacts (org_id, id),
    CHECK (company_name IS NOT NULL OR contact_name IS NOT NULL),
    CHECK ((status = 'open') = (closed_at IS NULL))
);
CREATE INDEX prospects_list ON prospects (org_id, list_id, position);
CREATE INDEX prospects_assigned ON prospects (org_id, assigned_to, status);
CREATE UNIQUE INDEX prospects_lead ON prospects (org_id, lead_id);
CREATE UNIQUE INDEX prospects_external_id ON prospects (org_id, external_id);

CREATE TABLE script_answers (
    org_id BLOB NOT NULL REFERENCES orgs (id),
    id BLOB NOT NULL,
    question_id BLOB NOT NULL,
    prospect_id BLOB,
    lead_id BLOB,
    value TEXT NOT NULL,
    answered_by BLOB NOT NULL,
    answered_at TEXT NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, question_id) REFERENCES script_questions (org_id, id),
    FOREIGN KEY (org_id, prospect_id) REFERENCES prospects (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, lead_id) REFERENCES leads (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, answered_by) REFERENCES users (org_id, id),
    CHECK ((prospect_id IS NULL) <> (lead_id IS NULL))
);
CREATE UNIQUE INDEX script_answers_prospect ON script_answers (org_id, question_id, prospect_id);
CREATE UNIQUE INDEX script_answers_lead ON script_answers (org_id, question_id, lead_id);

-- Activities may now be on a prospect: the table is rebuilt because SQLite
-- cannot change a CHECK constraint in place.
CREATE TABLE activities_new (
    org_id BLOB NOT NULL REFERENCES orgs (id),
    id BLOB NOT NULL,
    type_id BLOB NOT NULL,
    outcome_id BLOB,
    user_id BLOB NOT NULL,
    lead_id BLOB,
    company_id BLOB,
    contact_id BLOB,
    prospect_id BLOB,
    done BOOLEAN NOT NULL,
    happened_at TEXT,
    due_at TEXT,
    duration_minutes INTEGER CHECK (duration_minutes IS NULL OR duration_minutes BETWEEN 0 AND 1440),
    notes TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, type_id) REFERENCES activity_types (org_id, id),
    FOREIGN KEY (org_id, outcome_id) REFERENCES activity_outcomes (org_id, id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, lead_id) REFERENCES leads (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, company_id) REFERENCES companies (org_id, id),
    FOREIGN KEY (org_id, contact_id) REFERENCES contacts (org_id, id),
    FOREIGN KEY (org_id, prospect_id) REFERENCES prospects (org_id, id) ON DELETE CASCADE,
    CHECK (lead_id IS NOT NULL OR company_id IS NOT NULL OR contact_id IS NOT NULL OR prospect_id IS NOT NULL),
    CHECK (done = (happened_at IS NOT NULL)),
    CHECK (done OR due_at IS NOT NULL)
);
INSERT INTO activities_new (org_id, id, type_id, outcome_id, user_id, lead_id, company_id, contact_id,
    done, happened_at, due_at, duration_minutes, notes, created_at, updated_at, version)
SELECT org_id, id, type_id, outcome_id, user_id, lead_id, company_id, contact_id,
    done, happened_at, due_at, duration_minutes, notes, created_at, updated_at, version
FROM activities;
DROP TABLE activities;
ALTER TABLE activities_new RENAME TO activities;
CREATE INDEX activities_user_happened ON activities (org_id, user_id, happened_at);
CREATE INDEX activities_user_due ON activities (org_id, user_id, done, due_at);
CREATE INDEX activities_lead ON activities (org_id, lead_id);
CREATE INDEX activities_company ON activities (org_id, company_id);
CREATE INDEX activities_contact ON activities (org_id, contact_id);
CREATE INDEX activities_prospect ON activities (org_id, prospect_id);
