-- bulwark store schema, SQLite dialect: tracking-server tables (events, trend, webhooks).
-- Keep in step with ../postgres/0002_tracking.sql: the same tables, columns, constraints and
-- indexes. Timestamps are INTEGER milliseconds since the Unix epoch (UTC); JSON values are TEXT.

-- What happened to a project: uploads, new and vanished findings, SLA breaches, policy failures.
CREATE TABLE events (
    id                   INTEGER PRIMARY KEY,
    project_id           INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    project_version_id   INTEGER REFERENCES project_versions (id) ON DELETE CASCADE,
    snapshot_id          INTEGER REFERENCES sbom_snapshots (id) ON DELETE CASCADE,
    kind                 TEXT    NOT NULL,
    finding_id           TEXT,
    component_name       TEXT,
    component_ecosystem  TEXT,
    severity             TEXT,
    at                   INTEGER NOT NULL,
    detail               TEXT
);
CREATE INDEX events_project ON events (project_id, id);
CREATE INDEX events_kind ON events (kind, id);

-- Risk counts of a project after each change, for the trend chart.
CREATE TABLE risk_samples (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    critical    INTEGER NOT NULL,
    high        INTEGER NOT NULL,
    medium      INTEGER NOT NULL,
    low         INTEGER NOT NULL,
    unknown     INTEGER NOT NULL
);
CREATE INDEX risk_samples_project ON risk_samples (project_id, at, id);
CREATE INDEX risk_samples_at ON risk_samples (at);

-- Outgoing notifications. The secret signs payloads, so it is stored as given.
CREATE TABLE webhooks (
    id           INTEGER PRIMARY KEY,
    team_id      INTEGER REFERENCES teams (id) ON DELETE CASCADE,
    url          TEXT    NOT NULL,
    secret       TEXT    NOT NULL,
    events       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    disabled_at  INTEGER
);
CREATE INDEX webhooks_team ON webhooks (team_id);

-- Keys of notifications already sent (e.g. one SLA breach), so each goes out once.
CREATE TABLE notified (
    key  TEXT    PRIMARY KEY,
    at   INTEGER NOT NULL
);

-- Queries of this release also lean on 0001's indexes: findings_identity (project_id first)
-- for a project's findings, sbom_snapshots_version for each version's newest snapshot.
