-- Several ConnectWise instances (issue 32). Each integration is a named record; its settings
-- stay in `settings`, under names of its own (integration 1 keeps the names every server used
-- before, so its sealed private key is not touched). Today's settings become integration 1,
-- and everything that lives in ConnectWise records which instance it lives in: company ids,
-- configuration ids, ticket numbers and agreement ids repeat across instances.
CREATE TABLE integrations (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_ms BIGINT NOT NULL,
    -- Its own ConnectWise request budget a minute (none: the server's --cw-requests-per-minute).
    requests_per_minute BIGINT
);
INSERT INTO integrations (id, name, created_ms) VALUES (1, 'ConnectWise', 0);
SELECT setval(pg_get_serial_sequence('integrations', 'id'), 1);

ALTER TABLE policies ADD COLUMN cw_integration_id BIGINT;
UPDATE policies SET cw_integration_id = 1 WHERE cw_company_id IS NOT NULL;
ALTER TABLE bindings ADD COLUMN integration_id BIGINT NOT NULL DEFAULT 1;
ALTER TABLE tickets ADD COLUMN integration_id BIGINT NOT NULL DEFAULT 1;
ALTER TABLE policy_billing ADD COLUMN integration_id BIGINT NOT NULL DEFAULT 1;

DROP INDEX bindings_company;
CREATE INDEX bindings_company ON bindings(integration_id, company_id);
DROP INDEX policy_billing_agreement;
CREATE INDEX policy_billing_agreement ON policy_billing(integration_id, agreement_id);

-- An addition is one per (instance, agreement, product).
ALTER TABLE billed_additions ADD COLUMN integration_id BIGINT NOT NULL DEFAULT 1;
ALTER TABLE billed_additions DROP CONSTRAINT billed_additions_pkey;
ALTER TABLE billed_additions ADD PRIMARY KEY (integration_id, agreement_id, product_id);
