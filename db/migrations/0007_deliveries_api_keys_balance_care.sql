CREATE TYPE "public"."delivery_status" AS ENUM('delivered', 'refused');--> statement-breakpoint
CREATE TYPE "public"."notification_kind" AS ENUM('low_balance', 'auto_recharge_failed');--> statement-breakpoint
CREATE TABLE "api_key_windows" (
	"key_id" uuid NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"count" integer NOT NULL,
	CONSTRAINT "api_key_windows_key_id_window_start_pk" PRIMARY KEY("key_id","window_start")
);
--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"name" text NOT NULL,
	"prefix" text NOT NULL,
	"key_hash" text NOT NULL,
	"created_by_user_id" uuid,
	"revoked_by_user_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	"last_used_at" timestamp with time zone,
	CONSTRAINT "api_keys_key_hash_unique" UNIQUE("key_hash"),
	CONSTRAINT "api_keys_hash_format" CHECK ("api_keys"."key_hash" ~ '^[0-9a-f]{64}$')
);
--> statement-breakpoint
CREATE TABLE "balance_settings" (
	"org_id" uuid PRIMARY KEY NOT NULL,
	"low_balance_threshold" integer,
	"auto_recharge_enabled" boolean DEFAULT false NOT NULL,
	"auto_recharge_threshold" integer,
	"auto_recharge_pack_id" uuid,
	"payment_method_id" text,
	"card_brand" text,
	"card_last4" text,
	"card_saved_by_user_id" uuid,
	"auto_recharge_disabled_reason" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "balance_settings_low_threshold" CHECK ("balance_settings"."low_balance_threshold" IS NULL OR "balance_settings"."low_balance_threshold" > 0),
	CONSTRAINT "balance_settings_recharge_threshold" CHECK ("balance_settings"."auto_recharge_threshold" IS NULL OR "balance_settings"."auto_recharge_threshold" > 0),
	CONSTRAINT "balance_settings_recharge_complete" CHECK (NOT "balance_settings"."auto_recharge_enabled" OR ("balance_settings"."auto_recharge_threshold" IS NOT NULL AND "balance_settings"."auto_recharge_pack_id" IS NOT NULL AND "balance_settings"."payment_method_id" IS NOT NULL AND "balance_settings"."card_saved_by_user_id" IS NOT NULL))
);
--> statement-breakpoint
CREATE TABLE "notifications" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"kind" "notification_kind" NOT NULL,
	"cause_key" text NOT NULL,
	"message" text NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "notifications_cause_key_unique" UNIQUE("cause_key")
);
--> statement-breakpoint
ALTER TABLE "deliveries" ALTER COLUMN "id" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "purchases" ADD COLUMN "source" text DEFAULT 'checkout' NOT NULL;--> statement-breakpoint
-- Rows written before this migration (development data) get a key of their own, their status and their entry.
ALTER TABLE "deliveries" ADD COLUMN "idempotency_key" text NOT NULL DEFAULT ('legacy:' || gen_random_uuid());--> statement-breakpoint
ALTER TABLE "deliveries" ALTER COLUMN "idempotency_key" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "request_hash" text NOT NULL DEFAULT '';--> statement-breakpoint
ALTER TABLE "deliveries" ALTER COLUMN "request_hash" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "reference" text;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "status" "delivery_status" NOT NULL DEFAULT 'delivered';--> statement-breakpoint
ALTER TABLE "deliveries" ALTER COLUMN "status" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "entry_id" bigint;--> statement-breakpoint
UPDATE "deliveries" d SET "entry_id" = e."id" FROM "credit_entries" e WHERE e."delivery_id" = d."id";--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "api_key_id" uuid;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "user_id" uuid;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "api_key_windows" ADD CONSTRAINT "api_key_windows_key_id_api_keys_id_fk" FOREIGN KEY ("key_id") REFERENCES "public"."api_keys"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_revoked_by_user_id_users_id_fk" FOREIGN KEY ("revoked_by_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "balance_settings" ADD CONSTRAINT "balance_settings_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "balance_settings" ADD CONSTRAINT "balance_settings_auto_recharge_pack_id_credit_packs_id_fk" FOREIGN KEY ("auto_recharge_pack_id") REFERENCES "public"."credit_packs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "balance_settings" ADD CONSTRAINT "balance_settings_card_saved_by_user_id_users_id_fk" FOREIGN KEY ("card_saved_by_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_keys_org_idx" ON "api_keys" USING btree ("org_id","created_at");--> statement-breakpoint
CREATE INDEX "notifications_org_idx" ON "notifications" USING btree ("org_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "deliveries_org_key_idx" ON "deliveries" USING btree ("org_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "deliveries_campaign_idx" ON "deliveries" USING btree ("campaign_id","created_at");--> statement-breakpoint
ALTER TABLE "purchases" ADD CONSTRAINT "purchases_source" CHECK ("purchases"."source" IN ('checkout', 'auto_recharge'));--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_entry_when_delivered" CHECK (("deliveries"."status" = 'delivered') = ("deliveries"."entry_id" IS NOT NULL));