-- Pipelines and their ordered stages.

CREATE TABLE pipelines (
    org_id UUID NOT NULL REFERENCES orgs (id),
    id UUID NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('acquisition', 'renewal', 'upsell', 'recruiting')),
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, name)
);

CREATE TABLE stages (
    org_id UUID NOT NULL,
    id UUID NOT NULL,
    pipeline_id UUID NOT NULL,
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    win_probability INTEGER NOT NULL CHECK (win_probability BETWEEN 0 AND 100),
    rotting_days INTEGER CHECK (rotting_days IS NULL OR rotting_days > 0),
    colour TEXT NOT NULL,
    checklist TEXT NOT NULL DEFAULT '[]',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, pipeline_id) REFERENCES pipelines (org_id, id) ON DELETE CASCADE
);
CREATE INDEX stages_pipeline ON stages (org_id, pipeline_id, position);
