DROP INDEX "tasks_ready";--> statement-breakpoint
DROP INDEX "tasks_flow_ready";--> statement-breakpoint
CREATE INDEX "tasks_ready" ON "tasks" USING btree ("priority" DESC NULLS LAST,"id") WHERE "tasks"."status" = 'PENDING' AND "tasks"."awaiting" IS NULL;--> statement-breakpoint
CREATE INDEX "tasks_flow_ready" ON "tasks" USING btree ("task_name","priority" DESC NULLS LAST,"id") WHERE "tasks"."status" = 'PENDING' AND "tasks"."awaiting" IS NULL;