ALTER TABLE "campaigns" ADD COLUMN "recurrence" jsonb;--> statement-breakpoint
ALTER TABLE "campaigns" ADD COLUMN "series_id" uuid;--> statement-breakpoint
ALTER TABLE "campaigns" ADD COLUMN "occurrence_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_series_id_campaigns_id_fk" FOREIGN KEY ("series_id") REFERENCES "public"."campaigns"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "campaigns_series_occurrence_idx" ON "campaigns" USING btree ("series_id","occurrence_at");