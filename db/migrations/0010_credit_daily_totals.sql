CREATE TABLE "credit_daily_totals" (
	"org_id" uuid NOT NULL,
	"day" date NOT NULL,
	"campaign_id" uuid,
	"credits_in" bigint DEFAULT 0 NOT NULL,
	"credits_out" bigint DEFAULT 0 NOT NULL,
	"usage_out" bigint DEFAULT 0 NOT NULL,
	"entries" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "credit_daily_totals_org_day_campaign" UNIQUE NULLS NOT DISTINCT("org_id","day","campaign_id")
);
--> statement-breakpoint
ALTER TABLE "credit_daily_totals" ADD CONSTRAINT "credit_daily_totals_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "credit_daily_totals" ADD CONSTRAINT "credit_daily_totals_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- The daily totals follow the ledger in the statement that appends to it: one statement-level
-- trigger reads the inserted rows (a transition table) and adds them to their day rows. The
-- ledger is append-only (0001), so inserts are the only change to follow.
CREATE FUNCTION credit_entries_add_to_daily_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO credit_daily_totals AS t (org_id, day, campaign_id, credits_in, credits_out, usage_out, entries)
  SELECT n.org_id, (n.created_at AT TIME ZONE 'UTC')::date, n.campaign_id,
         coalesce(sum(n.amount) FILTER (WHERE n.amount > 0), 0),
         coalesce(-sum(n.amount) FILTER (WHERE n.amount < 0), 0),
         coalesce(-sum(n.amount) FILTER (WHERE n.kind = 'usage'), 0),
         count(*)
  FROM new_entries n
  GROUP BY 1, 2, 3
  ON CONFLICT ON CONSTRAINT credit_daily_totals_org_day_campaign DO UPDATE
    SET credits_in = t.credits_in + excluded.credits_in,
        credits_out = t.credits_out + excluded.credits_out,
        usage_out = t.usage_out + excluded.usage_out,
        entries = t.entries + excluded.entries;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER credit_entries_daily_totals AFTER INSERT ON credit_entries
  REFERENCING NEW TABLE AS new_entries
  FOR EACH STATEMENT EXECUTE FUNCTION credit_entries_add_to_daily_totals();
--> statement-breakpoint
INSERT INTO credit_daily_totals (org_id, day, campaign_id, credits_in, credits_out, usage_out, entries)
SELECT org_id, (created_at AT TIME ZONE 'UTC')::date, campaign_id,
       coalesce(sum(amount) FILTER (WHERE amount > 0), 0),
       coalesce(-sum(amount) FILTER (WHERE amount < 0), 0),
       coalesce(-sum(amount) FILTER (WHERE kind = 'usage'), 0),
       count(*)
FROM credit_entries
GROUP BY 1, 2, 3;
