// Generated from drizzle/ by scripts/generate-migrations.ts; do not edit. `bun run db:generate`
// rewrites it after drizzle-kit, and a test fails while it is out of date with drizzle/.
import type { MigrationMeta } from "drizzle-orm/migrator";

export const MIGRATIONS: readonly MigrationMeta[] = [
  // 0000_init
  {
    sql: [
      "CREATE TABLE `task_events` (\n\t`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,\n\t`task_id` text NOT NULL,\n\t`at` integer NOT NULL,\n\t`from_status` text,\n\t`to_status` text,\n\t`action` text NOT NULL,\n\t`reason` text,\n\t`actor` text,\n\tFOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE cascade\n);\n",
      "\nCREATE INDEX `task_events_task_id` ON `task_events` (`task_id`,`id`);",
      "\nCREATE TABLE `task_logs` (\n\t`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,\n\t`task_id` text NOT NULL,\n\t`at` integer NOT NULL,\n\t`level` text NOT NULL,\n\t`message` text NOT NULL,\n\tFOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE cascade,\n\tCONSTRAINT \"task_logs_level_check\" CHECK(level IN ('debug', 'info', 'warn', 'error'))\n);\n",
      "\nCREATE INDEX `task_logs_task_id` ON `task_logs` (`task_id`,`id`);",
      "\nCREATE TABLE `tasks` (\n\t`id` text PRIMARY KEY NOT NULL,\n\t`task_name` text NOT NULL,\n\t`status` text NOT NULL,\n\t`status_reason` text,\n\t`params` text,\n\t`result` text,\n\t`error` text,\n\t`progress` text,\n\t`checkpoint` text,\n\t`attempt` integer DEFAULT 1 NOT NULL,\n\t`retries` integer DEFAULT 0 NOT NULL,\n\t`priority` integer DEFAULT 0 NOT NULL,\n\t`run_at` integer,\n\t`requested_action` text,\n\t`idempotency_key` text,\n\t`tags` text,\n\t`start_time` integer,\n\t`end_time` integer,\n\t`last_run_time` integer,\n\t`created_at` integer NOT NULL,\n\t`updated_at` integer NOT NULL,\n\tCONSTRAINT \"tasks_status_check\" CHECK(status IN ('PENDING', 'RUNNING', 'PAUSED', 'FINISHED', 'FAILED', 'STOPPED')),\n\tCONSTRAINT \"tasks_requested_action_check\" CHECK(requested_action IS NULL OR requested_action IN ('pause', 'stop', 'restart'))\n);\n",
      "\nCREATE INDEX `tasks_status_id` ON `tasks` (`status`,`id`);",
      "\nCREATE INDEX `tasks_name_id` ON `tasks` (`task_name`,`id`);",
      "\nCREATE UNIQUE INDEX `tasks_idempotency_key` ON `tasks` (`idempotency_key`);",
    ],
    bps: true,
    folderMillis: 1795457640894,
    hash: "b1aaf6e8d005344b3eb4488fdeead30582abb03edef4b54d174dd86cd546ccdc",
  },
  // 0001_event_source
  {
    sql: ["ALTER TABLE `task_events` ADD `source` text;"],
    bps: true,
    folderMillis: 1796145704586,
    hash: "af8e1f5d9c1b6c4cd7497753965697391ab7f8fe1315a0a5c259df33710f7663",
  },
  // 0002_lean_writes
  {
    sql: [
      "DROP INDEX `tasks_idempotency_key`;",
      '\nCREATE UNIQUE INDEX `tasks_idempotency_key` ON `tasks` (`idempotency_key`) WHERE "tasks"."idempotency_key" IS NOT NULL;',
      "\nPRAGMA foreign_keys=OFF;",
      "\nCREATE TABLE `__new_task_events` (\n\t`id` integer PRIMARY KEY NOT NULL,\n\t`task_id` text NOT NULL,\n\t`at` integer NOT NULL,\n\t`from_status` text,\n\t`to_status` text,\n\t`action` text NOT NULL,\n\t`reason` text,\n\t`actor` text,\n\t`source` text,\n\tFOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE cascade\n);\n",
      '\nINSERT INTO `__new_task_events`("id", "task_id", "at", "from_status", "to_status", "action", "reason", "actor", "source") SELECT "id", "task_id", "at", "from_status", "to_status", "action", "reason", "actor", "source" FROM `task_events`;',
      "\nDROP TABLE `task_events`;",
      "\nALTER TABLE `__new_task_events` RENAME TO `task_events`;",
      "\nPRAGMA foreign_keys=ON;",
      "\nCREATE INDEX `task_events_task_id` ON `task_events` (`task_id`,`id`);",
      "\nCREATE TABLE `__new_task_logs` (\n\t`id` integer PRIMARY KEY NOT NULL,\n\t`task_id` text NOT NULL,\n\t`at` integer NOT NULL,\n\t`level` text NOT NULL,\n\t`message` text NOT NULL,\n\tFOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE cascade,\n\tCONSTRAINT \"task_logs_level_check\" CHECK(level IN ('debug', 'info', 'warn', 'error'))\n);\n",
      '\nINSERT INTO `__new_task_logs`("id", "task_id", "at", "level", "message") SELECT "id", "task_id", "at", "level", "message" FROM `task_logs`;',
      "\nDROP TABLE `task_logs`;",
      "\nALTER TABLE `__new_task_logs` RENAME TO `task_logs`;",
      "\nCREATE INDEX `task_logs_task_id` ON `task_logs` (`task_id`,`id`);",
    ],
    bps: true,
    folderMillis: 1796152020321,
    hash: "a6b204e3169de0b259686ad052328a35d6c7343a287c9d30ab8e434154d46f3e",
  },
  // 0003_task_context
  {
    sql: [
      "ALTER TABLE `tasks` ADD `traceparent` text;",
      "\nALTER TABLE `tasks` ADD `request_id` text;",
      "\nALTER TABLE `tasks` ADD `parent_id` text;",
      "\nALTER TABLE `tasks` ADD `active_ms` integer DEFAULT 0 NOT NULL;",
    ],
    bps: true,
    folderMillis: 1796282637765,
    hash: "45bc3691725bc2d9bb1c46dc10c309462cd4c449c2ec5f6b2b6eb37507694818",
  },
  // 0004_event_action_check
  {
    sql: [
      "PRAGMA foreign_keys=OFF;",
      "\nCREATE TABLE `__new_task_events` (\n\t`id` integer PRIMARY KEY NOT NULL,\n\t`task_id` text NOT NULL,\n\t`at` integer NOT NULL,\n\t`from_status` text,\n\t`to_status` text,\n\t`action` text NOT NULL,\n\t`reason` text,\n\t`actor` text,\n\t`source` text,\n\tFOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE cascade,\n\tCONSTRAINT \"task_events_action_check\" CHECK(action IN ('create', 'start', 'resume', 'pause', 'stop', 'restart', 'requeue', 'finish', 'fail', 'retry', 'restore'))\n);\n",
      '\nINSERT INTO `__new_task_events`("id", "task_id", "at", "from_status", "to_status", "action", "reason", "actor", "source") SELECT "id", "task_id", "at", "from_status", "to_status", "action", "reason", "actor", "source" FROM `task_events`;',
      "\nDROP TABLE `task_events`;",
      "\nALTER TABLE `__new_task_events` RENAME TO `task_events`;",
      "\nPRAGMA foreign_keys=ON;",
      "\nCREATE INDEX `task_events_task_id` ON `task_events` (`task_id`,`id`);",
    ],
    bps: true,
    folderMillis: 1796293304821,
    hash: "5b4bc21afb04201f274a769f1df1a9b25e0dbd24771e04796ee4b79fab68bc2e",
  },
  // 0005_schedules
  {
    sql: [
      'CREATE TABLE `schedule_fires` (\n\t`id` integer PRIMARY KEY NOT NULL,\n\t`schedule_id` text NOT NULL,\n\t`fire_time` integer NOT NULL,\n\t`task_id` text,\n\t`skip_reason` text,\n\t`waits_for` text,\n\t`recorded_at` integer NOT NULL,\n\tFOREIGN KEY (`schedule_id`) REFERENCES `schedules`(`id`) ON UPDATE no action ON DELETE cascade,\n\tCONSTRAINT "schedule_fires_outcome_check" CHECK(task_id IS NOT NULL OR skip_reason IS NOT NULL)\n);\n',
      "\nCREATE UNIQUE INDEX `schedule_fires_schedule_time` ON `schedule_fires` (`schedule_id`,`fire_time`);",
      "\nCREATE INDEX `schedule_fires_waits_for` ON `schedule_fires` (`waits_for`);",
      "\nCREATE TABLE `schedules` (\n\t`id` text PRIMARY KEY NOT NULL,\n\t`task_name` text NOT NULL,\n\t`cron` text,\n\t`every_ms` integer,\n\t`timezone` text,\n\t`params` text,\n\t`priority` integer DEFAULT 0 NOT NULL,\n\t`tags` text,\n\t`misfire` text NOT NULL,\n\t`backfill_ms` integer,\n\t`overlap` text NOT NULL,\n\t`paused` integer DEFAULT false NOT NULL,\n\t`source` text NOT NULL,\n\t`next_run_at` integer,\n\t`last_run_at` integer,\n\t`last_task_id` text,\n\t`created_at` integer NOT NULL,\n\t`updated_at` integer NOT NULL,\n\tCONSTRAINT \"schedules_misfire_check\" CHECK(misfire IN ('skip', 'once', 'all')),\n\tCONSTRAINT \"schedules_overlap_check\" CHECK(overlap IN ('allow', 'skip', 'queue')),\n\tCONSTRAINT \"schedules_source_check\" CHECK(source IN ('declared', 'api')),\n\tCONSTRAINT \"schedules_timing_check\" CHECK((cron IS NULL) <> (every_ms IS NULL))\n);\n",
      "\nCREATE INDEX `schedules_next_run_at` ON `schedules` (`next_run_at`);",
      "\nALTER TABLE `tasks` ADD `schedule_id` text;",
      "\nALTER TABLE `tasks` ADD `schedule_fire_time` integer;",
    ],
    bps: true,
    folderMillis: 1796303388674,
    hash: "467ec8ef2ff73cffbe0d88e8783431a1e708d6a6b8db8e31844d4ecfa7aadeec",
  },
  // 0006_paused_task_types
  {
    sql: [
      "CREATE TABLE `paused_task_types` (\n\t`task_name` text PRIMARY KEY NOT NULL,\n\t`paused_by` text,\n\t`paused_at` integer NOT NULL,\n\t`pause_running` integer DEFAULT false NOT NULL\n);\n",
    ],
    bps: true,
    folderMillis: 1796309449956,
    hash: "38b2301a43b2699650f3eb72e269d84617761f6430ccf6a64c44f7b274359703",
  },
  // 0007_node_claims
  {
    sql: [
      "ALTER TABLE `tasks` ADD `node_id` text;",
      "\nALTER TABLE `tasks` ADD `lease_epoch` integer DEFAULT 0 NOT NULL;",
    ],
    bps: true,
    folderMillis: 1796313119652,
    hash: "47044c95781559f69a8e4d0fd47ac4c501d54875e50d5f6721c65a82174d6be0",
  },
  // 0008_task_keys
  {
    sql: ["ALTER TABLE `tasks` ADD `rate_key` text;", "\nALTER TABLE `tasks` ADD `concurrency_key` text;"],
    bps: true,
    folderMillis: 1796317473021,
    hash: "9b05580bdac6c9ece28a4f843773a5cebe5060eaf7098194660aba5d4db3b193",
  },
  // 0009_rate_window_index
  {
    sql: [
      'CREATE INDEX `tasks_rate_last_run` ON `tasks` (`task_name`,`last_run_time`) WHERE "tasks"."rate_key" IS NOT NULL;',
    ],
    bps: true,
    folderMillis: 1796324073309,
    hash: "63301472f39208f171cf671dfaf295fd6177e8ecf0c3c96794a0d5280050e08b",
  },
  // 0010_task_dependencies
  {
    sql: [
      "CREATE TABLE `task_dependencies` (\n\t`task_id` text NOT NULL,\n\t`kind` text NOT NULL,\n\t`depends_on_id` text NOT NULL,\n\tPRIMARY KEY(`task_id`, `kind`, `depends_on_id`),\n\tFOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE cascade\n);\n",
      "\nCREATE INDEX `task_dependencies_depends_on` ON `task_dependencies` (`depends_on_id`);",
      "\nALTER TABLE `tasks` ADD `dependency_policy` text;",
      "\nALTER TABLE `tasks` ADD `awaiting` text;",
      "\nCREATE INDEX `tasks_parent_id` ON `tasks` (`parent_id`);",
    ],
    bps: true,
    folderMillis: 1796325038433,
    hash: "ea58621bbb83cada80497f6c737946ecba609db593222e45aa65170345c1170e",
  },
  // 0011_partial_wait_indexes
  {
    sql: [
      "DROP INDEX `tasks_parent_id`;",
      '\nCREATE INDEX `tasks_awaiting` ON `tasks` (`id`) WHERE "tasks"."awaiting" IS NOT NULL;',
      '\nCREATE INDEX `tasks_parent_id` ON `tasks` (`parent_id`) WHERE "tasks"."parent_id" IS NOT NULL;',
    ],
    bps: true,
    folderMillis: 1796325962178,
    hash: "22eccd4870c0a0f510eb088f3f065ad24dbf28bfdd7660caf255293a2516cb43",
  },
  // 0012_param_search
  {
    sql: [
      "CREATE TABLE `task_params` (\n\t`task_id` text NOT NULL,\n\t`path` text NOT NULL,\n\t`value` text NOT NULL,\n\tPRIMARY KEY(`task_id`, `path`),\n\tFOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE cascade\n);\n",
      "\nCREATE INDEX `task_params_path_value` ON `task_params` (`path`,`value`,`task_id`);",
      '\nCREATE INDEX `tasks_end_time` ON `tasks` (`end_time`,`id`) WHERE "tasks"."end_time" IS NOT NULL;',
    ],
    bps: true,
    folderMillis: 1796327391949,
    hash: "4b754c8ea7ccf2fad76daf8c0a57230bf4976876c29d02fef1992d6beb411866",
  },
  // 0013_task_tags
  {
    sql: [
      "CREATE TABLE `task_tags` (\n\t`task_id` text NOT NULL,\n\t`tag` text NOT NULL,\n\tPRIMARY KEY(`task_id`, `tag`),\n\tFOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE cascade\n);\n",
      "\nCREATE INDEX `task_tags_tag` ON `task_tags` (`tag`,`task_id`);",
      "\nINSERT OR IGNORE INTO `task_tags` (`task_id`, `tag`)\nSELECT `t`.`id`, `j`.`value`\nFROM (SELECT `id`, `tags` FROM `tasks` WHERE json_valid(`tags`) AND json_type(`tags`) = 'array') AS `t`,\n  json_each(`t`.`tags`) AS `j`\nWHERE `j`.`type` = 'text';\n",
    ],
    bps: true,
    folderMillis: 1796357039319,
    hash: "dae7303dd07a3e86326c7cbe3c07aba99668acbd1fe6c3b0eea0eb8d8e0f87d1",
  },
];
