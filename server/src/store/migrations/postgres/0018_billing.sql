-- Billing by device count (issue 32). A policy may bill its bound devices to an agreement of
-- its linked company: each device class (workstation, server) as a product. Bindery keeps one
-- addition per (agreement, product): its id once known (adopted or created), the quantity it
-- last wrote, and a change that waits for a person (the first write, a steep drop).
CREATE TABLE policy_billing (
    policy_id BIGINT PRIMARY KEY,
    company_id BIGINT NOT NULL,
    agreement_id BIGINT NOT NULL,
    agreement_name TEXT NOT NULL,
    workstation_product_id BIGINT,
    workstation_product TEXT,
    server_product_id BIGINT,
    server_product TEXT,
    bill_customer TEXT NOT NULL,
    updated_ms BIGINT NOT NULL
);
CREATE INDEX policy_billing_agreement ON policy_billing(agreement_id);
CREATE TABLE billed_additions (
    agreement_id BIGINT NOT NULL,
    product_id BIGINT NOT NULL,
    product TEXT NOT NULL,
    addition_id BIGINT,
    quantity BIGINT,
    written_ms BIGINT,
    held_quantity BIGINT,
    held_reason TEXT,
    approved_quantity BIGINT,
    create_started_ms BIGINT,
    PRIMARY KEY (agreement_id, product_id)
);
