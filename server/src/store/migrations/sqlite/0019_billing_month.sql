-- The month's highest count of each addition (for the "month's high" counting rule): the
-- month it is of (UTC, 2026-12) and the count.
ALTER TABLE billed_additions ADD COLUMN month TEXT;
ALTER TABLE billed_additions ADD COLUMN month_high INTEGER;
