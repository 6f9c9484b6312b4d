-- Notifications: the daily digest (settings, one claimed send per
-- recipient and day), alerts (one row per occurrence of a condition) and
-- webhooks (endpoints, the outbox of events written in the transaction of
-- the change, one delivery per endpoint and event, and its attempts).

CREATE TABLE notification_settings (
    org_id UUID NOT NULL PRIMARY KEY REFERENCES orgs (id),
    digest_enabled BOOLEAN NOT NULL DEFAULT TRUE,
    digest_hour INTEGER NOT NULL DEFAULT 7 CHECK (digest_hour BETWEEN 0 AND 23),
    digest_alerts BOOLEAN NOT NULL DEFAULT TRUE,
    idle_days INTEGER NOT NULL DEFAULT 14 CHECK (idle_days BETWEEN 1 AND 365),
    coverage_target_pct INTEGER NOT NULL DEFAULT 300 CHECK (coverage_target_pct BETWEEN 1 AND 10000),
    updated_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);

-- NULL: the default (daily for people who manage a team, off otherwise).
ALTER TABLE users ADD COLUMN digest TEXT CHECK (digest IN ('daily', 'weekly', 'off'));

CREATE TABLE digest_plans (
    org_id UUID NOT NULL REFERENCES orgs (id),
    digest_date DATE NOT NULL,
    planned_at TIMESTAMPTZ NOT NULL,
    recipients BIGINT NOT NULL,
    PRIMARY KEY (org_id, digest_date)
);

CREATE TABLE digest_sends (
    org_id UUID NOT NULL REFERENCES orgs (id),
    id UUID NOT NULL,
    user_id UUID NOT NULL,
    digest_date DATE NOT NULL,
    frequency TEXT NOT NULL CHECK (frequency IN ('daily', 'weekly')),
    status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'retrying', 'failed', 'skipped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    claimed_by TEXT,
    claimed_until TIMESTAMPTZ,
    email TEXT NOT NULL DEFAULT '',
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    sent_at TIMESTAMPTZ,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, user_id, digest_date),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
CREATE INDEX digest_sends_due ON digest_sends (status, next_attempt_at);
CREATE INDEX digest_sends_date ON digest_sends (org_id, digest_date);

CREATE TABLE alerts (
    org_id UUID NOT NULL REFERENCES orgs (id),
    id UUID NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('rotting', 'idle', 'close_date_passed', 'behind_pace', 'low_coverage')),
    alert_key TEXT NOT NULL,
    user_id UUID,
    team_id UUID,
    lead_id UUID,
    goal_id UUID,
    title TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}',
    raised_at TIMESTAMPTZ NOT NULL,
    resolved_at TIMESTAMPTZ,
    dismissed_at TIMESTAMPTZ,
    dismissed_by UUID,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, alert_key)
);
CREATE INDEX alerts_open ON alerts (org_id, resolved_at, raised_at);

CREATE TABLE goal_achievements (
    org_id UUID NOT NULL REFERENCES orgs (id),
    goal_id UUID NOT NULL,
    subject_id UUID NOT NULL,
    period_from DATE NOT NULL,
    achieved_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, goal_id, subject_id, period_from)
);

CREATE TABLE webhooks (
    org_id UUID NOT NULL REFERENCES orgs (id),
    id UUID NOT NULL,
    url TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    secret TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id)
);

CREATE TABLE webhook_subscriptions (
    org_id UUID NOT NULL,
    webhook_id UUID NOT NULL,
    event_type TEXT NOT NULL,
    PRIMARY KEY (org_id, webhook_id, event_type),
    FOREIGN KEY (org_id, webhook_id) REFERENCES webhooks (org_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_subscriptions_event ON webhook_subscriptions (org_id, event_type);

CREATE TABLE webhook_events (
    org_id UUID NOT NULL REFERENCES orgs (id),
    id UUID NOT NULL,
    event_type TEXT NOT NULL,
    record_id UUID NOT NULL,
    payload TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, id)
);

CREATE TABLE webhook_deliveries (
    org_id UUID NOT NULL,
    webhook_id UUID NOT NULL,
    event_id UUID NOT NULL,
    record_id UUID NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    claimed_until TIMESTAMPTZ,
    last_status INTEGER,
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    delivered_at TIMESTAMPTZ,
    PRIMARY KEY (org_id, webhook_id, event_id),
    FOREIGN KEY (org_id, webhook_id) REFERENCES webhooks (org_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_record ON webhook_deliveries (org_id, webhook_id, record_id, event_id);

CREATE TABLE webhook_attempts (
    org_id UUID NOT NULL,
    webhook_id UUID NOT NULL,
    event_id UUID NOT NULL,
    attempt INTEGER NOT NULL,
    attempted_at TIMESTAMPTZ NOT NULL,
    status_code INTEGER,
    error TEXT,
    duration_ms BIGINT NOT NULL,
    PRIMARY KEY (org_id, webhook_id, event_id, attempt),
    FOREIGN KEY (org_id, webhook_id) REFERENCES webhooks (org_id, id) ON DELETE CASCADE
);
