-- Whether a billed policy's bound configurations are also covered by its agreement
-- (`/finance/agreements/{id}/configurations`), and uncovered when their device leaves.
ALTER TABLE policy_billing ADD COLUMN cover_configurations INTEGER NOT NULL DEFAULT 0;
