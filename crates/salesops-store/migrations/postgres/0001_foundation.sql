-- Foundation: organisations, users, teams, sign-in, API tokens, idempotency.
-- Every table carries org_id; primary keys and foreign keys include it, so a
-- row can never point into another organisation, and tables can be
-- distributed by org_id later.

CREATE TABLE orgs (
    id UUID NOT NULL PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    base_currency CHAR(3) NOT NULL,
    time_zone TEXT NOT NULL,
    default_locale TEXT NOT NULL,
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE users (
    org_id UUID NOT NULL REFERENCES orgs (id),
    id UUID NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'ops', 'manager', 'rep', 'viewer')),
    locale TEXT NOT NULL CHECK (locale IN ('de', 'en')),
    time_zone TEXT NOT NULL,
    hire_date DATE,
    leave_date DATE,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, email)
);
CREATE INDEX users_email ON users (email);

CREATE TABLE teams (
    org_id UUID NOT NULL REFERENCES orgs (id),
    id UUID NOT NULL,
    name TEXT NOT NULL,
    segment TEXT NOT NULL CHECK (segment IN ('marketing', 'prospecting', 'sales', 'account_management')),
    manager_id UUID,
    parent_id UUID,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, name),
    FOREIGN KEY (org_id, manager_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, parent_id) REFERENCES teams (org_id, id)
);

CREATE TABLE team_members (
    org_id UUID NOT NULL,
    team_id UUID NOT NULL,
    user_id UUID NOT NULL,
    PRIMARY KEY (org_id, team_id, user_id),
    FOREIGN KEY (org_id, team_id) REFERENCES teams (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
CREATE INDEX team_members_user ON team_members (org_id, user_id);

CREATE TABLE api_tokens (
    org_id UUID NOT NULL,
    id UUID NOT NULL,
    user_id UUID NOT NULL,
    name TEXT NOT NULL,
    token_hash BYTEA NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    expires_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);

CREATE TABLE sessions (
    org_id UUID NOT NULL,
    id_hash BYTEA NOT NULL,
    user_id UUID NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, id_hash),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
CREATE UNIQUE INDEX sessions_id_hash ON sessions (id_hash);
CREATE INDEX sessions_user ON sessions (org_id, user_id);

CREATE TABLE login_failures (
    org_id UUID NOT NULL REFERENCES orgs (id),
    id UUID NOT NULL,
    email TEXT NOT NULL,
    ip TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX login_failures_email ON login_failures (email, at);
CREATE INDEX login_failures_ip ON login_failures (ip, at);

CREATE TABLE idempotency_keys (
    org_id UUID NOT NULL,
    user_id UUID NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash BYTEA NOT NULL,
    status_code INTEGER,
    response_body BYTEA,
    content_type TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, user_id, idem_key),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
