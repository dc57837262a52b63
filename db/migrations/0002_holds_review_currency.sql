ALTER TYPE "public"."purchase_status" ADD VALUE 'needs_review';--> statement-breakpoint
ALTER TABLE "purchases" ADD COLUMN "review_reason" text;--> statement-breakpoint
ALTER TABLE "coupon_redemptions" ADD COLUMN "over_redemption" text;--> statement-breakpoint
-- Currency codes are lowercase everywhere (as Stripe sends them); fix any stored otherwise first.
UPDATE "organizations" SET "currency" = lower("currency") WHERE "currency" <> lower("currency");--> statement-breakpoint
UPDATE "credit_packs" SET "currency" = lower("currency") WHERE "currency" <> lower("currency");--> statement-breakpoint
UPDATE "purchases" SET "currency" = lower("currency") WHERE "currency" <> lower("currency");--> statement-breakpoint
UPDATE "coupons" SET "currency" = lower("currency") WHERE "currency" <> lower("currency");--> statement-breakpoint
ALTER TABLE "organizations" ADD CONSTRAINT "organizations_currency_lower" CHECK ("organizations"."currency" = lower("organizations"."currency"));--> statement-breakpoint
ALTER TABLE "credit_packs" ADD CONSTRAINT "credit_packs_currency_lower" CHECK ("credit_packs"."currency" = lower("credit_packs"."currency"));--> statement-breakpoint
ALTER TABLE "purchases" ADD CONSTRAINT "purchases_currency_lower" CHECK ("purchases"."currency" = lower("purchases"."currency"));--> statement-breakpoint
ALTER TABLE "purchases" ADD CONSTRAINT "purchases_review_reason" CHECK (("purchases"."status"::text = 'needs_review') = ("purchases"."review_reason" IS NOT NULL));--> statement-breakpoint
ALTER TABLE "coupon_redemptions" ADD CONSTRAINT "coupon_redemptions_over_only_redeemed" CHECK ("coupon_redemptions"."over_redemption" IS NULL OR "coupon_redemptions"."status" = 'redeemed');--> statement-breakpoint
ALTER TABLE "coupons" ADD CONSTRAINT "coupons_currency_lower" CHECK ("coupons"."currency" IS NULL OR "coupons"."currency" = lower("coupons"."currency"));