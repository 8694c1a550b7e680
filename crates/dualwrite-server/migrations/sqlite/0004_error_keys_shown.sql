-- How a failed row of an initial sync is shown: its key values as the row holds them (case and
-- spacing kept, company part left out) and its company. `key` stays the normalised value a rerun
-- skips by; rows recorded before this have no display key and show `key`.
ALTER TABLE execution_errors ADD COLUMN display_key TEXT;
ALTER TABLE execution_errors ADD COLUMN company TEXT;
