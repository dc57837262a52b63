CREATE TABLE "meter_batches" (
	"id" uuid PRIMARY KEY NOT NULL,
	"identifier" text NOT NULL,
	"org_id" uuid NOT NULL,
	"stripe_customer_id" text NOT NULL,
	"credits" integer NOT NULL,
	"event_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"pushed_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"failed_at" timestamp with time zone,
	CONSTRAINT "meter_batches_identifier_unique" UNIQUE("identifier"),
	CONSTRAINT "meter_batches_credits_positive" CHECK ("meter_batches"."credits" > 0)
);
--> statement-breakpoint
CREATE TABLE "usage_records" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"delivery_id" uuid NOT NULL,
	"subscription_id" uuid NOT NULL,
	"stripe_customer_id" text NOT NULL,
	"plan_key" text NOT NULL,
	"credits" integer NOT NULL,
	"unit_amount" integer NOT NULL,
	"currency" text NOT NULL,
	"period_start" timestamp with time zone NOT NULL,
	"period_end" timestamp with time zone NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	"batch_id" uuid,
	CONSTRAINT "usage_records_delivery_id_unique" UNIQUE("delivery_id"),
	CONSTRAINT "usage_records_credits_positive" CHECK ("usage_records"."credits" > 0),
	CONSTRAINT "usage_records_unit_amount" CHECK ("usage_records"."unit_amount" >= 0),
	CONSTRAINT "usage_records_period" CHECK ("usage_records"."period_end" > "usage_records"."period_start")
);
--> statement-breakpoint
ALTER TABLE "deliveries" DROP CONSTRAINT "deliveries_entry_when_delivered";--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "overage_credits" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "plans" ADD COLUMN "overage_unit_amount" integer;--> statement-breakpoint
ALTER TABLE "plans" ADD COLUMN "stripe_overage_price_id" text;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "stripe_metered_item_id" text;--> statement-breakpoint
ALTER TABLE "meter_batches" ADD CONSTRAINT "meter_batches_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_records" ADD CONSTRAINT "usage_records_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_records" ADD CONSTRAINT "usage_records_delivery_id_deliveries_id_fk" FOREIGN KEY ("delivery_id") REFERENCES "public"."deliveries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_records" ADD CONSTRAINT "usage_records_batch_id_meter_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."meter_batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "meter_batches_unpushed_idx" ON "meter_batches" USING btree ("created_at") WHERE "meter_batches"."pushed_at" is null and "meter_batches"."failed_at" is null;--> statement-breakpoint
CREATE INDEX "usage_records_unbatched_idx" ON "usage_records" USING btree ("org_id","recorded_at") WHERE "usage_records"."batch_id" is null;--> statement-breakpoint
CREATE INDEX "usage_records_org_period_idx" ON "usage_records" USING btree ("org_id","period_start");--> statement-breakpoint
CREATE INDEX "usage_records_batch_idx" ON "usage_records" USING btree ("batch_id");--> statement-breakpoint
ALTER TABLE "plans" ADD CONSTRAINT "plans_stripe_overage_price_id_unique" UNIQUE("stripe_overage_price_id");--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_overage_range" CHECK ("deliveries"."overage_credits" >= 0 AND "deliveries"."overage_credits" <= "deliveries"."credits");--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_entry_when_delivered" CHECK (("deliveries"."status" = 'delivered' AND ("deliveries"."entry_id" IS NOT NULL) = ("deliveries"."overage_credits" < "deliveries"."credits")) OR ("deliveries"."status" <> 'delivered' AND "deliveries"."entry_id" IS NULL AND "deliveries"."overage_credits" = 0));