ALTER TABLE `tasks` ADD `node_id` text;--> statement-breakpoint
ALTER TABLE `tasks` ADD `lease_epoch` integer DEFAULT 0 NOT NULL;