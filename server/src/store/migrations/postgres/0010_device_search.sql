-- What the device list's search looks in (name, serial, MAC, IP, user, OS; lower-case), kept by
-- the store with every facts write, so a search is one indexed-table scan, not a JSON parse per row.
ALTER TABLE devices ADD COLUMN search_text TEXT;
