-- Billing by device count (issue 32). A policy may bill its bound devices to an agreement of
-- its linked company: each device class (workstation, server) as a product. Bindery keeps one
-- addition per (agreement, product): its id once known (adopted or created), the quantity it
-- last wrote, and a change that waits for a person (the first write, a steep drop).
CREATE TABLE policy_billing (
    policy_id INTEGER PRIMARY KEY,
    company_id INTEGER NOT NULL,
    agreement_id INTEGER NOT NULL,
    agreement_name TEXT NOT NULL,
    workstation_product_id INTEGER,
    workstation_product TEXT,
    server_product_id INTEGER,
    server_product TEXT,
    bill_customer TEXT NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE INDEX policy_billing_agreement ON policy_billing(agreement_id);
CREATE TABLE billed_additions (
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
    PRIMARY KEY (agreement_id, product_id)
);
