ALTER TABLE "organizations" ADD COLUMN "expiring_credits" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
UPDATE "organizations" o SET "expiring_credits" = g.remaining
FROM (SELECT "org_id", sum("remaining")::int AS remaining FROM "credit_grants" WHERE "expired_at" IS NULL GROUP BY "org_id") g
WHERE g."org_id" = o."id";
