-- bulwark store schema, SQLite dialect.
-- Keep in step with ../postgres/0001_init.sql: the same tables, columns, constraints and indexes.
-- Timestamps are INTEGER milliseconds since the Unix epoch (UTC) so that both backends store,
-- compare and sort them the same way through sqlx's Any driver, which has no date type.
-- JSON values are TEXT written and read by the application.

CREATE TABLE teams (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id            INTEGER PRIMARY KEY,
    team_id       INTEGER REFERENCES teams (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    prefix        TEXT    NOT NULL,
    key_hash      TEXT    NOT NULL UNIQUE,
    scopes        TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    revoked_at    INTEGER,
    last_used_at  INTEGER
);

CREATE TABLE projects (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    parent_id   INTEGER REFERENCES projects (id) ON DELETE RESTRICT,
    team_id     INTEGER REFERENCES teams (id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL
);
-- NULLs are distinct in a plain UNIQUE constraint, so top-level names need their own index.
CREATE UNIQUE INDEX projects_root_name ON projects (name) WHERE parent_id IS NULL;
CREATE UNIQUE INDEX projects_child_name ON projects (parent_id, name) WHERE parent_id IS NOT NULL;
CREATE INDEX projects_team ON projects (team_id, name);

CREATE TABLE project_tags (
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    tag         TEXT    NOT NULL,
    PRIMARY KEY (project_id, tag)
);
CREATE INDEX project_tags_tag ON project_tags (tag);

CREATE TABLE project_versions (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    version     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (project_id, version)
);

CREATE TABLE sbom_snapshots (
    id                  INTEGER PRIMARY KEY,
    project_version_id  INTEGER NOT NULL REFERENCES project_versions (id) ON DELETE CASCADE,
    format              TEXT    NOT NULL,
    sha256              TEXT    NOT NULL,
    document            BLOB    NOT NULL,
    uploaded_at         INTEGER NOT NULL,
    uploaded_by         TEXT    NOT NULL
);
CREATE INDEX sbom_snapshots_version ON sbom_snapshots (project_version_id, id);

CREATE TABLE components (
    id           INTEGER PRIMARY KEY,
    snapshot_id  INTEGER NOT NULL REFERENCES sbom_snapshots (id) ON DELETE CASCADE,
    bom_ref      TEXT    NOT NULL,
    purl         TEXT,
    name         TEXT    NOT NULL,
    version      TEXT,
    ecosystem    TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    gpu          TEXT,
    model        TEXT,
    UNIQUE (snapshot_id, bom_ref)
);

CREATE TABLE findings (
    id                   INTEGER PRIMARY KEY,
    snapshot_id          INTEGER NOT NULL REFERENCES sbom_snapshots (id) ON DELETE CASCADE,
    component_id         INTEGER NOT NULL REFERENCES components (id) ON DELETE CASCADE,
    project_id           INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    finding_id           TEXT    NOT NULL,
    kind                 TEXT    NOT NULL,
    aliases              TEXT    NOT NULL,
    severity             TEXT    NOT NULL,
    severity_rank        INTEGER NOT NULL,
    title                TEXT,
    component_name       TEXT    NOT NULL,
    component_ecosystem  TEXT    NOT NULL,
    first_seen           INTEGER NOT NULL
);
CREATE INDEX findings_snapshot ON findings (snapshot_id, severity_rank);
CREATE INDEX findings_identity ON findings (project_id, finding_id, component_name, component_ecosystem);

CREATE TABLE triage (
    project_id           INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    finding_id           TEXT    NOT NULL,
    component_name       TEXT    NOT NULL,
    component_ecosystem  TEXT    NOT NULL,
    state                TEXT    NOT NULL,
    justification        TEXT,
    detail               TEXT,
    suppressed_until     INTEGER,
    updated_at           INTEGER NOT NULL,
    updated_by           TEXT    NOT NULL,
    PRIMARY KEY (project_id, finding_id, component_name, component_ecosystem)
);

CREATE TABLE triage_audit (
    id                   INTEGER PRIMARY KEY,
    project_id           INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    finding_id           TEXT    NOT NULL,
    component_name       TEXT    NOT NULL,
    component_ecosystem  TEXT    NOT NULL,
    actor                TEXT    NOT NULL,
    at                   INTEGER NOT NULL,
    field                TEXT    NOT NULL,
    old_value            TEXT,
    new_value            TEXT
);
CREATE INDEX triage_audit_identity
    ON triage_audit (project_id, finding_id, component_name, component_ecosystem, id);

CREATE TABLE jobs (
    id                INTEGER PRIMARY KEY,
    kind              TEXT    NOT NULL,
    payload           TEXT    NOT NULL,
    state             TEXT    NOT NULL,
    attempts          INTEGER NOT NULL,
    max_attempts      INTEGER NOT NULL,
    run_after         INTEGER NOT NULL,
    worker            TEXT,
    lease_expires_at  INTEGER,
    last_error        TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX jobs_claim ON jobs (kind, state, run_after, id);
