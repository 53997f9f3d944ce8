-- Identity and adoption. A device's MAC, kept beside its serial to recognise a reinstalled
-- machine; the device it may be a reinstall of (set at enrollment without proof, cleared by a
-- person); the device it was merged into when a person approved that; a person's binding choice
-- ('adopt' a given configuration, or 'create' a new one); and, for a device that waits for a
-- person, the configurations it could be.
ALTER TABLE devices ADD COLUMN mac TEXT;
ALTER TABLE devices ADD COLUMN reinstall_of BIGINT;
ALTER TABLE devices ADD COLUMN merged_into BIGINT;
ALTER TABLE devices ADD COLUMN bind_choice TEXT;
ALTER TABLE devices ADD COLUMN bind_configuration_id BIGINT;
ALTER TABLE bindings ADD COLUMN candidates TEXT;
CREATE INDEX devices_mac ON devices(mac);
CREATE INDEX devices_agent_lower ON devices(lower(agent_id));
