-- Sales scripts (ordered questions), prospecting lists of cold prospects,
-- the answers given on calls, and activities on prospects.

CREATE TABLE scripts (
    org_id UUID NOT NULL REFERENCES orgs (id),
    id UUID NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    archived BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, name)
);

CREATE TABLE script_questions (
    org_id UUID NOT NULL REFERENCES orgs (id),
    id UUID NOT NULL,
    script_id UUID NOT NULL,
    position INTEGER NOT NULL,
    text TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('text', 'choice', 'number')),
    choices TEXT NOT NULL DEFAULT '',
    archived BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, script_id) REFERENCES scripts (org_id, id) ON DELETE CASCADE
);
CREATE INDEX script_questions_script ON script_questions (org_id, script_id, position);

CREATE TABLE prospect_lists (
    org_id UUID NOT NULL REFERENCES orgs (id),
    id UUID NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    team_id UUID,
    script_id UUID,
    archived BOOLEAN NOT NULL DEFAULT FALSE,
    created_by UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, team_id) REFERENCES teams (org_id, id),
    FOREIGN KEY (org_id, script_id) REFERENCES scripts (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id)
);

CREATE TABLE prospect_list_reps (
    org_id UUID NOT NULL REFERENCES orgs (id),
    list_id UUID NOT NULL,
    user_id UUID NOT NULL,
    PRIMARY KEY (org_id, list_id, user_id),
    FOREIGN KEY (org_id, list_id) REFERENCES prospect_lists (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
CREATE INDEX prospect_list_reps_user ON prospect_list_reps (org_id, user_id);

CREATE TABLE prospects (
    org_id UUID NOT NULL REFERENCES orgs (id),
    id UUID NOT NULL,
    list_id UUID NOT NULL,
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
    assigned_to UUID,
    status TEXT NOT NULL CHECK (status IN ('open', 'converted', 'disqualified')),
    disqualify_reason TEXT,
    lead_id UUID,
    company_id UUID,
    contact_id UUID,
    closed_at TIMESTAMPTZ,
    external_id TEXT,
    search_text TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
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
    org_id UUID NOT NULL REFERENCES orgs (id),
    id UUID NOT NULL,
    question_id UUID NOT NULL,
    prospect_id UUID,
    lead_id UUID,
    value TEXT NOT NULL,
    answered_by UUID NOT NULL,
    answered_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, question_id) REFERENCES script_questions (org_id, id),
    FOREIGN KEY (org_id, prospect_id) REFERENCES prospects (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, lead_id) REFERENCES leads (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, answered_by) REFERENCES users (org_id, id),
    CHECK ((prospect_id IS NULL) <> (lead_id IS NULL))
);
CREATE UNIQUE INDEX script_answers_prospect ON script_answers (org_id, question_id, prospect_id);
CREATE UNIQUE INDEX script_answers_lead ON script_answers (org_id, question_id, lead_id);

-- Activities may now be on a prospect.
ALTER TABLE activities ADD COLUMN prospect_id UUID;
ALTER TABLE activities ADD FOREIGN KEY (org_id, prospect_id) REFERENCES prospects (org_id, id) ON DELETE CASCADE;
ALTER TABLE activities DROP CONSTRAINT activities_check;
ALTER TABLE activities ADD CONSTRAINT activities_on_record
    CHECK (lead_id IS NOT NULL OR company_id IS NOT NULL OR contact_id IS NOT NULL OR prospect_id IS NOT NULL);
CREATE INDEX activities_prospect ON activities (org_id, prospect_id);
