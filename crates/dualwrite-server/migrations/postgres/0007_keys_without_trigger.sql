-- A row's keys are written and deleted with the row, by the statements that write it (one each), so
-- the foreign key from keys to rows only cost a trigger and a lookup in env_rows for every key
-- written: it is dropped, and deleting a row deletes its keys in the same statement.
ALTER TABLE env_row_keys DROP CONSTRAINT env_row_keys_row_id_fkey;

-- Keys are stored normalised the way the source systems compare them, so two keys are the same key
-- exactly when their bytes are: the "C" collation compares them so, without the database's locale
-- in every index probe. Equality, and so uniqueness, is unchanged (every deterministic collation
-- compares equal only equal bytes); nothing is ordered by these columns.
ALTER TABLE env_row_keys
    ALTER COLUMN side TYPE TEXT COLLATE "C",
    ALTER COLUMN tbl TYPE TEXT COLLATE "C",
    ALTER COLUMN name TYPE TEXT COLLATE "C",
    ALTER COLUMN value TYPE TEXT COLLATE "C";
ALTER TABLE env_rows
    ALTER COLUMN side TYPE TEXT COLLATE "C",
    ALTER COLUMN tbl TYPE TEXT COLLATE "C";
