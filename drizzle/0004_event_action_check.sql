PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_task_events` (
	`id` integer PRIMARY KEY NOT NULL,
	`task_id` text NOT NULL,
	`at` integer NOT NULL,
	`from_status` text,
	`to_status` text,
	`action` text NOT NULL,
	`reason` text,
	`actor` text,
	`source` text,
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "task_events_action_check" CHECK(action IN ('create', 'start', 'resume', 'pause', 'stop', 'restart', 'requeue', 'finish', 'fail', 'retry', 'restore'))
);
--> statement-breakpoint
INSERT INTO `__new_task_events`("id", "task_id", "at", "from_status", "to_status", "action", "reason", "actor", "source") SELECT "id", "task_id", "at", "from_status", "to_status", "action", "reason", "actor", "source" FROM `task_events`;--> statement-breakpoint
DROP TABLE `task_events`;--> statement-breakpoint
ALTER TABLE `__new_task_events` RENAME TO `task_events`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `task_events_task_id` ON `task_events` (`task_id`,`id`);