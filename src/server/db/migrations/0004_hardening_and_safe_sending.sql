ALTER TYPE "public"."campaign_status" ADD VALUE 'Missed';--> statement-breakpoint
CREATE TABLE "auth_throttles" (
	"key" text PRIMARY KEY NOT NULL,
	"failures" integer DEFAULT 0 NOT NULL,
	"first_failure_at" timestamp with time zone DEFAULT now() NOT NULL,
	"blocked_until" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "invites" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"email" text,
	"token_hash" text NOT NULL,
	"created_by_user_id" uuid,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "auth_sessions" ADD COLUMN "last_seen_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "campaign_recipients" ADD COLUMN "skip_reason" text;--> statement-breakpoint
ALTER TABLE "campaigns" ADD COLUMN "send_window" jsonb;--> statement-breakpoint
ALTER TABLE "campaigns" ADD COLUMN "batch_size" integer;--> statement-breakpoint
ALTER TABLE "campaigns" ADD COLUMN "batch_pause_ms" integer;--> statement-breakpoint
ALTER TABLE "campaigns" ADD COLUMN "latest_start" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "campaigns" ADD COLUMN "missed_reason" text;--> statement-breakpoint
ALTER TABLE "campaigns" ADD COLUMN "waiting_reason" text;--> statement-breakpoint
ALTER TABLE "campaigns" ADD COLUMN "waiting_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "campaigns" ADD COLUMN "waiting_detail" text;--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "on_whatsapp" boolean;--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "whatsapp_chat_id" text;--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "whatsapp_checked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "whatsapp_sessions" ADD COLUMN "time_zone" text DEFAULT 'UTC' NOT NULL;--> statement-breakpoint
ALTER TABLE "whatsapp_sessions" ADD COLUMN "daily_limit" integer;--> statement-breakpoint
ALTER TABLE "whatsapp_sessions" ADD COLUMN "hourly_limit" integer;--> statement-breakpoint
ALTER TABLE "whatsapp_sessions" ADD COLUMN "warmup" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "whatsapp_sessions" ADD COLUMN "typing" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "whatsapp_sessions" ADD COLUMN "check_exists" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "whatsapp_sessions" ADD COLUMN "max_consecutive_failures" integer;--> statement-breakpoint
ALTER TABLE "whatsapp_sessions" ADD COLUMN "consecutive_failures" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "whatsapp_sessions" ADD COLUMN "first_sent_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "whatsapp_sessions" ADD COLUMN "restricted_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "whatsapp_sessions" ADD COLUMN "restriction_reason" text;--> statement-breakpoint
ALTER TABLE "workspaces" ADD COLUMN "quota_numbers" integer;--> statement-breakpoint
ALTER TABLE "workspaces" ADD COLUMN "quota_contacts" integer;--> statement-breakpoint
ALTER TABLE "workspaces" ADD COLUMN "quota_media_bytes" bigint;--> statement-breakpoint
ALTER TABLE "invites" ADD CONSTRAINT "invites_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invites" ADD CONSTRAINT "invites_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "invites_token_unique" ON "invites" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "invites_workspace_idx" ON "invites" USING btree ("workspace_id");--> statement-breakpoint
CREATE INDEX "auth_sessions_expires_idx" ON "auth_sessions" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "webhook_events_received_idx" ON "webhook_events" USING btree ("received_at");