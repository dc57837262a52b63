-- The ledger is append-only: corrections are new rows, never edits. Enforced here so that no
-- code path (or a hand-typed psql session) can rewrite history.
CREATE FUNCTION credit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'credit_entries is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER credit_entries_no_update_delete
  BEFORE UPDATE OR DELETE ON credit_entries
  FOR EACH ROW EXECUTE FUNCTION credit_entries_append_only();
-- TRUNCATE stays possible on purpose: it is how test suites reset the database, and it
-- needs table ownership, which the application role is not meant to have in production.
