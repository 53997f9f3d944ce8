-- Each device's binding to a ConnectWise configuration, as the job runner last recorded it.
CREATE TABLE bindings (
    device_id BIGINT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    company_id BIGINT,
    configuration_id BIGINT,
    error TEXT,
    updated_ms BIGINT NOT NULL
);
