DROP INDEX `tasks_parent_id`;--> statement-breakpoint
CREATE INDEX `tasks_awaiting` ON `tasks` (`id`) WHERE "tasks"."awaiting" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `tasks_parent_id` ON `tasks` (`parent_id`) WHERE "tasks"."parent_id" IS NOT NULL;