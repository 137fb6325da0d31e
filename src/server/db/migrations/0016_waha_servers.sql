CREATE TABLE "waha_servers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"name" text NOT NULL,
	"url" text NOT NULL,
	"api_key_encrypted" text,
	"health_status" text DEFAULT 'unknown' NOT NULL,
	"health_detail" text,
	"health_checked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "whatsapp_sessions" ADD COLUMN "server_id" uuid;--> statement-breakpoint
ALTER TABLE "waha_servers" ADD CONSTRAINT "waha_servers_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "waha_servers_workspace_name_unique" ON "waha_servers" USING btree ("workspace_id","name");--> statement-breakpoint
ALTER TABLE "whatsapp_sessions" ADD CONSTRAINT "whatsapp_sessions_server_id_waha_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "public"."waha_servers"("id") ON DELETE restrict ON UPDATE no action;