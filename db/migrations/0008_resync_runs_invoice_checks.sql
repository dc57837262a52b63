CREATE TABLE "resync_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"since" timestamp with time zone NOT NULL,
	"actor_user_id" uuid,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"report" jsonb,
	"error" text
);
--> statement-breakpoint
ALTER TABLE "reconciliation_runs" ADD COLUMN "checked_invoices" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "resync_runs" ADD CONSTRAINT "resync_runs_actor_user_id_users_id_fk" FOREIGN KEY ("actor_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "resync_runs_requested_idx" ON "resync_runs" USING btree ("requested_at");