CREATE TABLE "task_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "task_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"task_id" text NOT NULL,
	"at" bigint NOT NULL,
	"from_status" text,
	"to_status" text,
	"action" text NOT NULL,
	"reason" text,
	"actor" text,
	"source" text,
	CONSTRAINT "task_events_action_check" CHECK (action IN ('create', 'start', 'resume', 'pause', 'stop', 'restart', 'requeue', 'finish', 'fail', 'retry', 'restore'))
);
--> statement-breakpoint
CREATE TABLE "task_logs" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "task_logs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"task_id" text NOT NULL,
	"at" bigint NOT NULL,
	"level" text NOT NULL,
	"message" text NOT NULL,
	CONSTRAINT "task_logs_level_check" CHECK (level IN ('debug', 'info', 'warn', 'error'))
);
--> statement-breakpoint
CREATE TABLE "tasks" (
	"id" text COLLATE "C" PRIMARY KEY NOT NULL,
	"task_name" text NOT NULL,
	"status" text NOT NULL,
	"status_reason" text,
	"params" json,
	"result" json,
	"error" json,
	"progress" json,
	"checkpoint" json,
	"attempt" integer DEFAULT 1 NOT NULL,
	"retries" integer DEFAULT 0 NOT NULL,
	"priority" integer DEFAULT 0 NOT NULL,
	"run_at" bigint,
	"requested_action" text,
	"idempotency_key" text,
	"tags" jsonb,
	"start_time" bigint,
	"end_time" bigint,
	"last_run_time" bigint,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"traceparent" text,
	"request_id" text,
	"parent_id" text,
	"active_ms" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "tasks_status_check" CHECK (status IN ('PENDING', 'RUNNING', 'PAUSED', 'FINISHED', 'FAILED', 'STOPPED')),
	CONSTRAINT "tasks_requested_action_check" CHECK (requested_action IS NULL OR requested_action IN ('pause', 'stop', 'restart'))
);
--> statement-breakpoint
ALTER TABLE "task_events" ADD CONSTRAINT "task_events_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "task_logs" ADD CONSTRAINT "task_logs_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "task_events_task_id" ON "task_events" USING btree ("task_id","id");--> statement-breakpoint
CREATE INDEX "task_logs_task_id" ON "task_logs" USING btree ("task_id","id");--> statement-breakpoint
CREATE INDEX "tasks_status_id" ON "tasks" USING btree ("status","id");--> statement-breakpoint
CREATE INDEX "tasks_name_id" ON "tasks" USING btree ("task_name","id");--> statement-breakpoint
CREATE UNIQUE INDEX "tasks_idempotency_key" ON "tasks" USING btree ("idempotency_key") WHERE "tasks"."idempotency_key" IS NOT NULL;