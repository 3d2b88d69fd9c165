CREATE TABLE "leader" (
	"name" text PRIMARY KEY NOT NULL,
	"node_id" text NOT NULL,
	"elected_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "nodes" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"host" text NOT NULL,
	"pid" integer NOT NULL,
	"started_at" bigint NOT NULL,
	"last_heartbeat_at" bigint NOT NULL,
	"status" text NOT NULL,
	"concurrency" integer NOT NULL,
	"running" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "node_id" text;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "lease_epoch" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "lease_expires_at" bigint;--> statement-breakpoint
CREATE INDEX "tasks_ready" ON "tasks" USING btree ("priority" DESC NULLS LAST,"id") WHERE "tasks"."status" = 'PENDING';--> statement-breakpoint
CREATE INDEX "tasks_leases" ON "tasks" USING btree ("node_id","lease_expires_at") WHERE "tasks"."status" = 'RUNNING';