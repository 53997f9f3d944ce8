-- The configuration field map (issue 33): what Bindery last wrote into each mapped field of the
-- device's configuration, as JSON ({"configurationId": N, "fields": {"modelNumber": "…"}}), so a
-- field a person edited since is left to them.
ALTER TABLE bindings ADD COLUMN written_json TEXT;
