ALTER TABLE `tasks` ADD `traceparent` text;--> statement-breakpoint
ALTER TABLE `tasks` ADD `request_id` text;--> statement-breakpoint
ALTER TABLE `tasks` ADD `parent_id` text;--> statement-breakpoint
ALTER TABLE `tasks` ADD `active_ms` integer DEFAULT 0 NOT NULL;