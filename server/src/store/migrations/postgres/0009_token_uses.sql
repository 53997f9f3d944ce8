-- A token's use limit (none: any number of machines may enroll with it).
ALTER TABLE enrollment_tokens ADD COLUMN max_uses BIGINT;
