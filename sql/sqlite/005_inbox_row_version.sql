-- Scale-out on a Galera cluster (see sql/mysql/005): transactions that must
-- be serialised on one inbox bump its row_version. SQLite's single writer
-- serialises them already; the column keeps both backends' schemas alike.
ALTER TABLE clients ADD COLUMN row_version INTEGER NOT NULL DEFAULT 0;
