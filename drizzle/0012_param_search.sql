CREATE TABLE `task_params` (
	`task_id` text NOT NULL,
	`path` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`task_id`, `path`),
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `task_params_path_value` ON `task_params` (`path`,`value`,`task_id`);--> statement-breakpoint
CREATE INDEX `tasks_end_time` ON `tasks` (`end_time`,`id`) WHERE "tasks"."end_time" IS NOT NULL;