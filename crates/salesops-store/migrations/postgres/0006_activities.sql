-- Activities: calls, e-mails, meetings, proposals ... logged or scheduled
-- against a lead, a company or a contact.

CREATE TABLE activities (
    org_id UUID NOT NULL REFERENCES orgs (id),
    id UUID NOT NULL,
    type_id UUID NOT NULL,
    outcome_id UUID,
    user_id UUID NOT NULL,
    lead_id UUID,
    company_id UUID,
    contact_id UUID,
    done BOOLEAN NOT NULL,
    happened_at TIMESTAMPTZ,
    due_at TIMESTAMPTZ,
    duration_minutes INTEGER CHECK (duration_minutes IS NULL OR duration_minutes BETWEEN 0 AND 1440),
    notes TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, type_id) REFERENCES activity_types (org_id, id),
    FOREIGN KEY (org_id, outcome_id) REFERENCES activity_outcomes (org_id, id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, lead_id) REFERENCES leads (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, company_id) REFERENCES companies (org_id, id),
    FOREIGN KEY (org_id, contact_id) REFERENCES contacts (org_id, id),
    CHECK (lead_id IS NOT NULL OR company_id IS NOT NULL OR contact_id IS NOT NULL),
    CHECK (done = (happened_at IS NOT NULL)),
    CHECK (done OR due_at IS NOT NULL)
);
CREATE INDEX activities_user_happened ON activities (org_id, user_id, happened_at);
CREATE INDEX activities_user_due ON activities (org_id, user_id, done, due_at);
CREATE INDEX activities_lead ON activities (org_id, lead_id);
CREATE INDEX activities_company ON activities (org_id, company_id);
CREATE INDEX activities_contact ON activities (org_id, contact_id);
