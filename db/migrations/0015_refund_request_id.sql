-- Staff refunds remember the form's request id (lib/refunds/request.ts). A resubmitted request
-- (lost response, reload, replayed post) used to insert a second pending row, whose job refunded
-- again at Stripe under its own key (refund:<row id>). The id is unique, so a repeat finds its
-- refund; requested_amount is the amount as asked (null: "the rest of the payment"), so a repeat
-- that asks for something else is refused. Rows from before this have neither.
ALTER TABLE "refunds" ADD COLUMN "request_id" uuid;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "requested_amount" integer;--> statement-breakpoint
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_request_id_unique" UNIQUE("request_id");