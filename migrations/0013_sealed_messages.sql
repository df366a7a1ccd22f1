-- Encryption at rest: the messages kept whole (`message_sources.raw`, `outbox.raw`) are sealed by
-- the application with the data key (XChaCha20-Poly1305, see src/crypto.rs); the database file
-- itself is SQLCipher. No schema change: the rows written before are sealed by the step that
-- follows this migration in src/store/encrypt.rs (`seal_plain_blobs`), in its transaction.
-- `outbox.raw` keeps its declared TEXT type and holds a BLOB from now on (SQLite keeps a blob as
-- it is); a PostgreSQL schema declares both columns `bytea`.
SELECT 1;
