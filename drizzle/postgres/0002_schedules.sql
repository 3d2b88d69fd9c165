CREATE TABLE "schedule_fires" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "schedule_fires_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"schedule_id" text NOT NULL,
	"fire_time" bigint NOT NULL,
	"task_id" text,
	"skip_reason" text,
	"waits_for" text,
	"recorded_at" bigint NOT NULL,
	CONSTRAINT "schedule_fires_outcome_check" CHECK (task_id IS NOT NULL OR skip_reason IS NOT NULL)
);
--> statement-breakpoint
CREATE TABLE "schedules" (
	"id" text PRIMARY KEY NOT NULL,
	"task_name" text NOT NULL,
	"cron" text,
	"every_ms" bigint,
	"timezone" text,
	"params" json,
	"priority" integer DEFAULT 0 NOT NULL,
	"tags" jsonb,
	"misfire" text NOT NULL,
	"backfill_ms" bigint,
	"overlap" text NOT NULL,
	"paused" boolean DEFAULT false NOT NULL,
	"source" text NOT NULL,
	"next_run_at" bigint,
	"last_run_at" bigint,
	"last_task_id" text,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "schedules_misfire_check" CHECK (misfire IN ('skip', 'once', 'all')),
	CONSTRAINT "schedules_overlap_check" CHECK (overlap IN ('allow', 'skip', 'queue')),
	CONSTRAINT "schedules_source_check" CHECK (source IN ('declared', 'api')),
	CONSTRAINT "schedules_timing_check" CHECK ((cron IS NULL) <> (every_ms IS NULL))
);
--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "schedule_id" text;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "schedule_fire_time" bigint;--> statement-breakpoint
ALTER TABLE "schedule_fires" ADD CONSTRAINT "schedule_fires_schedule_id_schedules_id_fk" FOREIGN KEY ("schedule_id") REFERENCES "public"."schedules"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "schedule_fires_schedule_time" ON "schedule_fires" USING btree ("schedule_id","fire_time");--> statement-breakpoint
CREATE INDEX "schedule_fires_waits_for" ON "schedule_fires" USING btree ("waits_for");--> statement-breakpoint
CREATE INDEX "schedules_next_run_at" ON "schedules" USING btree ("next_run_at");