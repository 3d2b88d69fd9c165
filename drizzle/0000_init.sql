CREATE TABLE `task_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`task_id` text NOT NULL,
	`at` integer NOT NULL,
	`from_status` text,
	`to_status` text,
	`action` text NOT NULL,
	`reason` text,
	`actor` text,
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `task_events_task_id` ON `task_events` (`task_id`,`id`);--> statement-breakpoint
CREATE TABLE `task_logs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`task_id` text NOT NULL,
	`at` integer NOT NULL,
	`level` text NOT NULL,
	`message` text NOT NULL,
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "task_logs_level_check" CHECK(level IN ('debug', 'info', 'warn', 'error'))
);
--> statement-breakpoint
CREATE INDEX `task_logs_task_id` ON `task_logs` (`task_id`,`id`);--> statement-breakpoint
CREATE TABLE `tasks` (
	`id` text PRIMARY KEY NOT NULL,
	`task_name` text NOT NULL,
	`status` text NOT NULL,
	`status_reason` text,
	`params` text,
	`result` text,
	`error` text,
	`progress` text,
	`checkpoint` text,
	`attempt` integer DEFAULT 1 NOT NULL,
	`retries` integer DEFAULT 0 NOT NULL,
	`priority` integer DEFAULT 0 NOT NULL,
	`run_at` integer,
	`requested_action` text,
	`idempotency_key` text,
	`tags` text,
	`start_time` integer,
	`end_time` integer,
	`last_run_time` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	CONSTRAINT "tasks_status_check" CHECK(status IN ('PENDING', 'RUNNING', 'PAUSED', 'FINISHED', 'FAILED', 'STOPPED')),
	CONSTRAINT "tasks_requested_action_check" CHECK(requested_action IS NULL OR requested_action IN ('pause', 'stop', 'restart'))
);
--> statement-breakpoint
CREATE INDEX `tasks_status_id` ON `tasks` (`status`,`id`);--> statement-breakpoint
CREATE INDEX `tasks_name_id` ON `tasks` (`task_name`,`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `tasks_idempotency_key` ON `tasks` (`idempotency_key`);