CREATE TABLE `paused_task_types` (
	`task_name` text PRIMARY KEY NOT NULL,
	`paused_by` text,
	`paused_at` integer NOT NULL,
	`pause_running` integer DEFAULT false NOT NULL
);
