-- The mailbox service's position per IMAP folder: the highest UID filed, valid only while the
-- folder's UIDVALIDITY is unchanged. A changed UIDVALIDITY restarts from UID 0; messages seen
-- again are recognised by their sha256 in `messages` and only filed, never decided twice.

CREATE TABLE mailbox_checkpoints (
    folder       TEXT PRIMARY KEY,
    uidvalidity  INTEGER NOT NULL,
    last_uid     INTEGER NOT NULL
);
