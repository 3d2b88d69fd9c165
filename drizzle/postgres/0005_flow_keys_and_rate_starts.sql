CREATE TABLE "rate_starts" (
	"task_name" text NOT NULL,
	"rate_key" text NOT NULL,
	"at" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "rate_key" text;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "concurrency_key" text;--> statement-breakpoint
CREATE INDEX "rate_starts_name_key_at" ON "rate_starts" USING btree ("task_name","rate_key","at");--> statement-breakpoint
CREATE INDEX "tasks_flow_ready" ON "tasks" USING btree ("task_name","priority" DESC NULLS LAST,"id") WHERE "tasks"."status" = 'PENDING';