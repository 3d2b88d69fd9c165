CREATE TABLE `task_dependencies` (
	`task_id` text NOT NULL,
	`kind` text NOT NULL,
	`depends_on_id` text NOT NULL,
	PRIMARY KEY(`task_id`, `kind`, `depends_on_id`),
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `task_dependencies_depends_on` ON `task_dependencies` (`depends_on_id`);--> statement-breakpoint
ALTER TABLE `tasks` ADD `dependency_policy` text;--> statement-breakpoint
ALTER TABLE `tasks` ADD `awaiting` text;--> statement-breakpoint
CREATE INDEX `tasks_parent_id` ON `tasks` (`parent_id`);