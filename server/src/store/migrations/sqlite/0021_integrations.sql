-- Several ConnectWise instances (issue 32). Each integration is a named record; its settings
-- stay in `settings`, under names of its own (integration 1 keeps the names every server used
-- before, so its sealed private key is not touched). Today's settings become integration 1,
-- and everything that lives in ConnectWise records which instance it lives in: company ids,
-- configuration ids, ticket numbers and agreement ids repeat across instances.
CREATE TABLE integrations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    created_ms BIGINT NOT NULL,
    -- Its own ConnectWise request budget a minute (none: the server's --cw-requests-per-minute).
    requests_per_minute BIGINT
);
INSERT INTO integrations (id, name, created_ms) VALUES (1, 'ConnectWise', 0);

ALTER TABLE policies ADD COLUMN cw_integration_id BIGINT;
UPDATE policies SET cw_integration_id = 1 WHERE cw_company_id IS NOT NULL;
ALTER TABLE bindings ADD COLUMN integration_id BIGINT NOT NULL DEFAULT 1;
ALTER TABLE tickets ADD COLUMN integration_id BIGINT NOT NULL DEFAULT 1;
ALTER TABLE policy_billing ADD COLUMN integration_id BIGINT NOT NULL DEFAULT 1;

DROP INDEX bindings_company;
CREATE INDEX bindings_company ON bindings(integration_id, company_id);
DROP INDEX policy_billing_agreement;
CREATE INDEX policy_billing_agreement ON policy_billing(integration_id, agreement_id);

-- An addition is one per (instance, agreement, product): rebuilt with the instance in its key.
CREATE TABLE billed_additions_new (
    integration_id BIGINT NOT NULL DEFAULT 1,
    agreement_id INTEGER NOT NULL,
    product_id INTEGER NOT NULL,
    product TEXT NOT NULL,
    addition_id INTEGER,
    quantity INTEGER,
    written_ms INTEGER,
    held_quantity INTEGER,
    held_reason TEXT,
    approved_quantity INTEGER,
    create_started_ms INTEGER,
    month TEXT,
    month_high INTEGER,
    PRIMARY KEY (integration_id, agreement_id, product_id)
);
INSERT INTO billed_additions_new (integration_id, agreement_id, product_id, product, addition_id,
    quantity, written_ms, held_quantity, held_reason, approved_quantity, create_started_ms, month, month_high)
    SELECT 1, agreement_id, product_id, product, addition_id, quantity, written_ms, held_quantity,
    held_reason, approved_quantity, create_started_ms, month, month_high FROM billed_additions;
DROP TABLE billed_additions;
ALTER TABLE billed_additions_new RENAME TO billed_additions;
