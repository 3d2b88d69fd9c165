DROP INDEX "tasks_parent_id";--> statement-breakpoint
CREATE INDEX "tasks_awaiting" ON "tasks" USING btree ("id") WHERE "tasks"."awaiting" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "tasks_parent_id" ON "tasks" USING btree ("parent_id") WHERE "tasks"."parent_id" IS NOT NULL;