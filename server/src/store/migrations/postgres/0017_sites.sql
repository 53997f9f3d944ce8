-- A policy's link may name one of its company's sites; its devices' configurations and
-- tickets then carry it. A ticket keeps the site it was opened for (a later change of the
-- policy's site applies to new tickets).
ALTER TABLE policies ADD COLUMN cw_site_id BIGINT;
ALTER TABLE policies ADD COLUMN cw_site_name TEXT;
ALTER TABLE tickets ADD COLUMN site_id BIGINT;
