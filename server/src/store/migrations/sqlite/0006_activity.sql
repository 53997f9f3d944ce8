-- Every ConnectWise write the job runner makes, with its outcome, for the console's activity log.
CREATE TABLE activity (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms BIGINT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    cw_id BIGINT,
    ok BIGINT NOT NULL,
    detail TEXT
);
CREATE INDEX activity_recent ON activity(id);
