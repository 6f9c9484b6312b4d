-- Goals: a target for a metric per period, for a user, a team as a whole
-- or each member of a team; revenue quotas are goals on revenue won.

CREATE TABLE goals (
    org_id BLOB NOT NULL REFERENCES orgs (id),
    id BLOB NOT NULL,
    assignee TEXT NOT NULL CHECK (assignee IN ('user', 'team', 'each_member')),
    user_id BLOB,
    team_id BLOB,
    metric TEXT NOT NULL
        CHECK (metric IN ('activities', 'leads_created', 'leads_won', 'revenue_won', 'meetings_held',
                          'prospects_added')),
    activity_type_id BLOB,
    outcome_id BLOB,
    period TEXT NOT NULL CHECK (period IN ('day', 'week', 'month', 'quarter', 'half_year', 'year')),
    -- A count, or for revenue minor units of the organisation's base currency.
    target BIGINT NOT NULL CHECK (target > 0),
    valid_from TEXT NOT NULL,
    -- The last day the goal applies to (inclusive); none: open-ended.
    valid_until TEXT,
    pipeline_id BLOB,
    created_by BLOB,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, team_id) REFERENCES teams (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, activity_type_id) REFERENCES activity_types (org_id, id),
    FOREIGN KEY (org_id, outcome_id) REFERENCES activity_outcomes (org_id, id),
    FOREIGN KEY (org_id, pipeline_id) REFERENCES pipelines (org_id, id) ON DELETE CASCADE,
    CHECK ((assignee = 'user') = (user_id IS NOT NULL)),
    CHECK ((assignee = 'user') = (team_id IS NULL)),
    CHECK ((metric = 'activities') = (activity_type_id IS NOT NULL)),
    CHECK (outcome_id IS NULL OR activity_type_id IS NOT NULL),
    CHECK (valid_until IS NULL OR valid_until >= valid_from)
);
CREATE INDEX goals_user ON goals (org_id, user_id);
CREATE INDEX goals_team ON goals (org_id, team_id);
