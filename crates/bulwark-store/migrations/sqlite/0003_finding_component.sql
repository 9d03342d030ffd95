-- A version's findings are the busiest read, and each shows its component's version and purl.
-- Components never change after ingest, so a finding keeps a copy and that read needs no join.
ALTER TABLE findings ADD COLUMN component_version TEXT;
ALTER TABLE findings ADD COLUMN component_purl TEXT;
UPDATE findings SET
    component_version = (SELECT c.version FROM components c WHERE c.id = findings.component_id),
    component_purl = (SELECT c.purl FROM components c WHERE c.id = findings.component_id);
