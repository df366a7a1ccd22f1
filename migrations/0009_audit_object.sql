-- Admins look for who saw or changed a case, a message or a victim's records: by object.
CREATE INDEX audit_log_object ON audit_log (object, id);
