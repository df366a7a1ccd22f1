-- The victim named by a referral parked for a coordinator's review, when it matched nobody in the
-- history: a later referral of the same person finds it (by date of birth, then by name) and is
-- never rejected automatically while the earlier one waits. Special-category data, like people.
CREATE TABLE review_victims (
    message_row INTEGER PRIMARY KEY REFERENCES messages (id),
    name        TEXT NOT NULL,
    dob         TEXT NOT NULL
);
CREATE INDEX review_victims_dob ON review_victims (dob);
