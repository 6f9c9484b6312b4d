-- Companies (accounts) and the people who work there; a search column for
-- users, lower-cased by the application so both databases fold case alike.

ALTER TABLE users ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE users SET search_text = lower(name) || ' ' || lower(email);
CREATE INDEX users_search ON users (org_id, search_text);

CREATE TABLE companies (
    org_id UUID NOT NULL REFERENCES orgs (id),
    id UUID NOT NULL,
    name TEXT NOT NULL,
    industry TEXT,
    size_band TEXT CHECK (size_band IN ('1-10', '11-50', '51-200', '201-1000', '1001-5000', '5000+')),
    country TEXT,
    region TEXT,
    postcode TEXT,
    city TEXT,
    website TEXT,
    phone TEXT,
    problems TEXT,
    value_minor BIGINT,
    value_currency CHAR(3),
    owner_id UUID,
    external_id TEXT,
    search_text TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, external_id),
    FOREIGN KEY (org_id, owner_id) REFERENCES users (org_id, id),
    CHECK ((value_minor IS NULL) = (value_currency IS NULL))
);
CREATE INDEX companies_owner ON companies (org_id, owner_id);
CREATE INDEX companies_name ON companies (org_id, name);

CREATE TABLE contacts (
    org_id UUID NOT NULL REFERENCES orgs (id),
    id UUID NOT NULL,
    company_id UUID,
    name TEXT NOT NULL,
    job_title TEXT,
    email TEXT,
    phone TEXT,
    notes TEXT,
    owner_id UUID,
    external_id TEXT,
    search_text TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, external_id),
    FOREIGN KEY (org_id, company_id) REFERENCES companies (org_id, id),
    FOREIGN KEY (org_id, owner_id) REFERENCES users (org_id, id)
);
CREATE INDEX contacts_company ON contacts (org_id, company_id);
CREATE INDEX contacts_owner ON contacts (org_id, owner_id);
