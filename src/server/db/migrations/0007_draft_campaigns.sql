ALTER TABLE "campaigns" ALTER COLUMN "scheduled_at" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_time_unless_draft" CHECK ("campaigns"."status" = 'Draft' or "campaigns"."scheduled_at" is not null);
