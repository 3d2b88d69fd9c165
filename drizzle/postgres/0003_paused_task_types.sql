CREATE TABLE "paused_task_types" (
	"task_name" text PRIMARY KEY NOT NULL,
	"paused_by" text,
	"paused_at" bigint NOT NULL,
	"pause_running" boolean DEFAULT false NOT NULL
);
