CREATE TYPE "public"."card_setup_status" AS ENUM('started', 'succeeded', 'failed', 'superseded', 'canceled');--> statement-breakpoint
ALTER TYPE "public"."notification_kind" ADD VALUE 'card_setup_failed';--> statement-breakpoint
CREATE TABLE "card_setups" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"request_id" uuid NOT NULL,
	"stripe_setup_intent_id" text,
	"purchase_id" uuid,
	"status" "card_setup_status" DEFAULT 'started' NOT NULL,
	"payment_method_id" text,
	"failure_code" text,
	"failure_message" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "card_setups_request_id_unique" UNIQUE("request_id"),
	CONSTRAINT "card_setups_stripe_setup_intent_id_unique" UNIQUE("stripe_setup_intent_id"),
	CONSTRAINT "card_setups_purchase_id_unique" UNIQUE("purchase_id")
);
--> statement-breakpoint
ALTER TABLE "balance_settings" ADD COLUMN "card_setup_id" bigint;--> statement-breakpoint
ALTER TABLE "card_setups" ADD CONSTRAINT "card_setups_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "card_setups" ADD CONSTRAINT "card_setups_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "card_setups" ADD CONSTRAINT "card_setups_purchase_id_purchases_id_fk" FOREIGN KEY ("purchase_id") REFERENCES "public"."purchases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "card_setups_org_idx" ON "card_setups" USING btree ("org_id","id");--> statement-breakpoint
ALTER TABLE "balance_settings" ADD CONSTRAINT "balance_settings_card_setup_id_card_setups_id_fk" FOREIGN KEY ("card_setup_id") REFERENCES "public"."card_setups"("id") ON DELETE no action ON UPDATE no action;