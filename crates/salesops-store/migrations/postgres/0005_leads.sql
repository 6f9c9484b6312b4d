-- Leads (deals) and their stage history.

CREATE TABLE leads (
    org_id UUID NOT NULL REFERENCES orgs (id),
    id UUID NOT NULL,
    title TEXT NOT NULL,
    pipeline_id UUID NOT NULL,
    stage_id UUID NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'won', 'lost', 'cancelled')),
    amount_minor BIGINT CHECK (amount_minor IS NULL OR amount_minor >= 0),
    currency CHAR(3),
    probability INTEGER CHECK (probability IS NULL OR probability BETWEEN 0 AND 100),
    expected_close_date DATE,
    owner_id UUID,
    company_id UUID,
    contact_id UUID,
    source TEXT,
    campaign TEXT,
    forecast_category TEXT NOT NULL CHECK (forecast_category IN ('pipeline', 'best_case', 'commit', 'closed', 'omitted')),
    next_step_date DATE,
    mql_at TIMESTAMPTZ,
    sql_at TIMESTAMPTZ,
    closed_at TIMESTAMPTZ,
    lost_reason TEXT,
    competitor TEXT,
    stage_entered_at TIMESTAMPTZ NOT NULL,
    external_id TEXT,
    search_text TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, external_id),
    FOREIGN KEY (org_id, pipeline_id) REFERENCES pipelines (org_id, id),
    FOREIGN KEY (org_id, stage_id) REFERENCES stages (org_id, id),
    FOREIGN KEY (org_id, owner_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, company_id) REFERENCES companies (org_id, id),
    FOREIGN KEY (org_id, contact_id) REFERENCES contacts (org_id, id),
    CHECK ((amount_minor IS NULL) = (currency IS NULL)),
    CHECK ((status = 'open') = (closed_at IS NULL))
);
CREATE INDEX leads_stage ON leads (org_id, stage_id, status);
CREATE INDEX leads_owner ON leads (org_id, owner_id, status);
CREATE INDEX leads_company ON leads (org_id, company_id);
CREATE INDEX leads_contact ON leads (org_id, contact_id);
CREATE INDEX leads_created ON leads (org_id, created_at);
CREATE INDEX leads_closed ON leads (org_id, closed_at);

-- Every stage and status change: history is kept even when a stage is later
-- deleted, so the stage columns carry no foreign key.
CREATE TABLE lead_stage_history (
    org_id UUID NOT NULL,
    id UUID NOT NULL,
    lead_id UUID NOT NULL,
    from_stage_id UUID,
    to_stage_id UUID NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    by_user_id UUID,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, lead_id) REFERENCES leads (org_id, id) ON DELETE CASCADE
);
CREATE INDEX lead_stage_history_lead ON lead_stage_history (org_id, lead_id, at);
CREATE INDEX lead_stage_history_to ON lead_stage_history (org_id, to_stage_id, at);
