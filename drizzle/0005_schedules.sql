CREATE TABLE `schedule_fires` (
	`id` integer PRIMARY KEY NOT NULL,
	`schedule_id` text NOT NULL,
	`fire_time` integer NOT NULL,
	`task_id` text,
	`skip_reason` text,
	`waits_for` text,
	`recorded_at` integer NOT NULL,
	FOREIGN KEY (`schedule_id`) REFERENCES `schedules`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "schedule_fires_outcome_check" CHECK(task_id IS NOT NULL OR skip_reason IS NOT NULL)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `schedule_fires_schedule_time` ON `schedule_fires` (`schedule_id`,`fire_time`);--> statement-breakpoint
CREATE INDEX `schedule_fires_waits_for` ON `schedule_fires` (`waits_for`);--> statement-breakpoint
CREATE TABLE `schedules` (
	`id` text PRIMARY KEY NOT NULL,
	`task_name` text NOT NULL,
	`cron` text,
	`every_ms` integer,
	`timezone` text,
	`params` text,
	`priority` integer DEFAULT 0 NOT NULL,
	`tags` text,
	`misfire` text NOT NULL,
	`backfill_ms` integer,
	`overlap` text NOT NULL,
	`paused` integer DEFAULT false NOT NULL,
	`source` text NOT NULL,
	`next_run_at` integer,
	`last_run_at` integer,
	`last_task_id` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	CONSTRAINT "schedules_misfire_check" CHECK(misfire IN ('skip', 'once', 'all')),
	CONSTRAINT "schedules_overlap_check" CHECK(overlap IN ('allow', 'skip', 'queue')),
	CONSTRAINT "schedules_source_check" CHECK(source IN ('declared', 'api')),
	CONSTRAINT "schedules_timing_check" CHECK((cron IS NULL) <> (every_ms IS NULL))
);
--> statement-breakpoint
CREATE INDEX `schedules_next_run_at` ON `schedules` (`next_run_at`);--> statement-breakpoint
ALTER TABLE `tasks` ADD `schedule_id` text;--> statement-breakpoint
ALTER TABLE `tasks` ADD `schedule_fire_time` integer;