-- What a coordinator finds a case by that only its form says (issue 16, item 3): the police
-- reference (letters and digits, upper-cased) and each whole postcode in the victim's postcode
-- and address, with its outward code. One row per key of a message, so that a search reads the
-- few messages with the key instead of every stored reading (the reading still decides:
-- `marac_core::search::form_keys`). Personal data, like the reading it comes from: deleted with
-- it by an erasure or a purge. Filled for the messages already kept by the migration's code.
CREATE TABLE message_search_keys (
    message_row  INTEGER NOT NULL REFERENCES messages (id),
    kind         TEXT NOT NULL CHECK (kind IN ('police_reference', 'postcode', 'postcode_district')),
    key          TEXT NOT NULL,
    PRIMARY KEY (message_row, kind, key)
);
CREATE INDEX message_search_keys_by_key ON message_search_keys (kind, key);
