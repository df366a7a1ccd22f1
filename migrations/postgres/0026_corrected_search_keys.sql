-- The search keys of the messages a coordinator corrected before the keys followed the
-- corrected reading: made again, by the migration's code, from the reading as corrected
-- (`store::search::refill_corrected_keys`), so that a search finds the police reference or
-- postcode the coordinator gave, as it does for every correction since. No change of schema.
SELECT 1;
