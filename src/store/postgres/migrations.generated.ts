// Generated from drizzle/postgres/ by scripts/generate-migrations.ts; do not edit. `bun run db:generate`
// rewrites it after drizzle-kit, and a test fails while it is out of date with drizzle/postgres/.
import type { MigrationMeta } from "drizzle-orm/migrator";

export const MIGRATIONS: readonly MigrationMeta[] = [
  // 0000_init
  {
    sql: [
      'CREATE TABLE "task_events" (\n\t"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "task_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),\n\t"task_id" text NOT NULL,\n\t"at" bigint NOT NULL,\n\t"from_status" text,\n\t"to_status" text,\n\t"action" text NOT NULL,\n\t"reason" text,\n\t"actor" text,\n\t"source" text,\n\tCONSTRAINT "task_events_action_check" CHECK (action IN (\'create\', \'start\', \'resume\', \'pause\', \'stop\', \'restart\', \'requeue\', \'finish\', \'fail\', \'retry\', \'restore\'))\n);\n',
      '\nCREATE TABLE "task_logs" (\n\t"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "task_logs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),\n\t"task_id" text NOT NULL,\n\t"at" bigint NOT NULL,\n\t"level" text NOT NULL,\n\t"message" text NOT NULL,\n\tCONSTRAINT "task_logs_level_check" CHECK (level IN (\'debug\', \'info\', \'warn\', \'error\'))\n);\n',
      '\nCREATE TABLE "tasks" (\n\t"id" text COLLATE "C" PRIMARY KEY NOT NULL,\n\t"task_name" text NOT NULL,\n\t"status" text NOT NULL,\n\t"status_reason" text,\n\t"params" json,\n\t"result" json,\n\t"error" json,\n\t"progress" json,\n\t"checkpoint" json,\n\t"attempt" integer DEFAULT 1 NOT NULL,\n\t"retries" integer DEFAULT 0 NOT NULL,\n\t"priority" integer DEFAULT 0 NOT NULL,\n\t"run_at" bigint,\n\t"requested_action" text,\n\t"idempotency_key" text,\n\t"tags" jsonb,\n\t"start_time" bigint,\n\t"end_time" bigint,\n\t"last_run_time" bigint,\n\t"created_at" bigint NOT NULL,\n\t"updated_at" bigint NOT NULL,\n\t"traceparent" text,\n\t"request_id" text,\n\t"parent_id" text,\n\t"active_ms" bigint DEFAULT 0 NOT NULL,\n\tCONSTRAINT "tasks_status_check" CHECK (status IN (\'PENDING\', \'RUNNING\', \'PAUSED\', \'FINISHED\', \'FAILED\', \'STOPPED\')),\n\tCONSTRAINT "tasks_requested_action_check" CHECK (requested_action IS NULL OR requested_action IN (\'pause\', \'stop\', \'restart\'))\n);\n',
      '\nALTER TABLE "task_events" ADD CONSTRAINT "task_events_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE cascade ON UPDATE no action;',
      '\nALTER TABLE "task_logs" ADD CONSTRAINT "task_logs_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE cascade ON UPDATE no action;',
      '\nCREATE INDEX "task_events_task_id" ON "task_events" USING btree ("task_id","id");',
      '\nCREATE INDEX "task_logs_task_id" ON "task_logs" USING btree ("task_id","id");',
      '\nCREATE INDEX "tasks_status_id" ON "tasks" USING btree ("status","id");',
      '\nCREATE INDEX "tasks_name_id" ON "tasks" USING btree ("task_name","id");',
      '\nCREATE UNIQUE INDEX "tasks_idempotency_key" ON "tasks" USING btree ("idempotency_key") WHERE "tasks"."idempotency_key" IS NOT NULL;',
    ],
    bps: true,
    folderMillis: 1796295266375,
    hash: "ee609831dc8644aa8c11fe5a4c05cec887c193c5a2e9245ec4160cb048a3e50a",
  },
  // 0001_tags_gin
  {
    sql: ['CREATE INDEX "tasks_tags" ON "tasks" USING gin ("tags" jsonb_path_ops);'],
    bps: true,
    folderMillis: 1796305092088,
    hash: "3706fba23cf2e62e8b81d398e7590555bda57da99c3b5cdca1ccfa1d84c76b4b",
  },
  // 0002_schedules
  {
    sql: [
      'CREATE TABLE "schedule_fires" (\n\t"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "schedule_fires_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),\n\t"schedule_id" text NOT NULL,\n\t"fire_time" bigint NOT NULL,\n\t"task_id" text,\n\t"skip_reason" text,\n\t"waits_for" text,\n\t"recorded_at" bigint NOT NULL,\n\tCONSTRAINT "schedule_fires_outcome_check" CHECK (task_id IS NOT NULL OR skip_reason IS NOT NULL)\n);\n',
      '\nCREATE TABLE "schedules" (\n\t"id" text PRIMARY KEY NOT NULL,\n\t"task_name" text NOT NULL,\n\t"cron" text,\n\t"every_ms" bigint,\n\t"timezone" text,\n\t"params" json,\n\t"priority" integer DEFAULT 0 NOT NULL,\n\t"tags" jsonb,\n\t"misfire" text NOT NULL,\n\t"backfill_ms" bigint,\n\t"overlap" text NOT NULL,\n\t"paused" boolean DEFAULT false NOT NULL,\n\t"source" text NOT NULL,\n\t"next_run_at" bigint,\n\t"last_run_at" bigint,\n\t"last_task_id" text,\n\t"created_at" bigint NOT NULL,\n\t"updated_at" bigint NOT NULL,\n\tCONSTRAINT "schedules_misfire_check" CHECK (misfire IN (\'skip\', \'once\', \'all\')),\n\tCONSTRAINT "schedules_overlap_check" CHECK (overlap IN (\'allow\', \'skip\', \'queue\')),\n\tCONSTRAINT "schedules_source_check" CHECK (source IN (\'declared\', \'api\')),\n\tCONSTRAINT "schedules_timing_check" CHECK ((cron IS NULL) <> (every_ms IS NULL))\n);\n',
      '\nALTER TABLE "tasks" ADD COLUMN "schedule_id" text;',
      '\nALTER TABLE "tasks" ADD COLUMN "schedule_fire_time" bigint;',
      '\nALTER TABLE "schedule_fires" ADD CONSTRAINT "schedule_fires_schedule_id_schedules_id_fk" FOREIGN KEY ("schedule_id") REFERENCES "public"."schedules"("id") ON DELETE cascade ON UPDATE no action;',
      '\nCREATE UNIQUE INDEX "schedule_fires_schedule_time" ON "schedule_fires" USING btree ("schedule_id","fire_time");',
      '\nCREATE INDEX "schedule_fires_waits_for" ON "schedule_fires" USING btree ("waits_for");',
      '\nCREATE INDEX "schedules_next_run_at" ON "schedules" USING btree ("next_run_at");',
    ],
    bps: true,
    folderMillis: 1796307585771,
    hash: "4797bda6d9e60014005d3ce55cc1d7de5fdaf18bf4e910f194c22d289ccaf78a",
  },
  // 0003_paused_task_types
  {
    sql: [
      'CREATE TABLE "paused_task_types" (\n\t"task_name" text PRIMARY KEY NOT NULL,\n\t"paused_by" text,\n\t"paused_at" bigint NOT NULL,\n\t"pause_running" boolean DEFAULT false NOT NULL\n);\n',
    ],
    bps: true,
    folderMillis: 1796309451022,
    hash: "6f7b70004794b795f8a584f7fd5338e8aee7b700aab8004af6f841ab04fcd246",
  },
  // 0004_nodes_and_leases
  {
    sql: [
      'CREATE TABLE "leader" (\n\t"name" text PRIMARY KEY NOT NULL,\n\t"node_id" text NOT NULL,\n\t"elected_at" bigint NOT NULL,\n\t"expires_at" bigint NOT NULL\n);\n',
      '\nCREATE TABLE "nodes" (\n\t"id" text PRIMARY KEY NOT NULL,\n\t"name" text NOT NULL,\n\t"host" text NOT NULL,\n\t"pid" integer NOT NULL,\n\t"started_at" bigint NOT NULL,\n\t"last_heartbeat_at" bigint NOT NULL,\n\t"status" text NOT NULL,\n\t"concurrency" integer NOT NULL,\n\t"running" integer DEFAULT 0 NOT NULL\n);\n',
      '\nALTER TABLE "tasks" ADD COLUMN "node_id" text;',
      '\nALTER TABLE "tasks" ADD COLUMN "lease_epoch" integer DEFAULT 0 NOT NULL;',
      '\nALTER TABLE "tasks" ADD COLUMN "lease_expires_at" bigint;',
      '\nCREATE INDEX "tasks_ready" ON "tasks" USING btree ("priority" DESC NULLS LAST,"id") WHERE "tasks"."status" = \'PENDING\';',
      '\nCREATE INDEX "tasks_leases" ON "tasks" USING btree ("node_id","lease_expires_at") WHERE "tasks"."status" = \'RUNNING\';',
    ],
    bps: true,
    folderMillis: 1796313120401,
    hash: "9b93f064de816d41d5443d8f3587deb955dbaa7f33a144bd66b87df47b9ce3e7",
  },
  // 0005_flow_keys_and_rate_starts
  {
    sql: [
      'CREATE TABLE "rate_starts" (\n\t"task_name" text NOT NULL,\n\t"rate_key" text NOT NULL,\n\t"at" bigint NOT NULL\n);\n',
      '\nALTER TABLE "tasks" ADD COLUMN "rate_key" text;',
      '\nALTER TABLE "tasks" ADD COLUMN "concurrency_key" text;',
      '\nCREATE INDEX "rate_starts_name_key_at" ON "rate_starts" USING btree ("task_name","rate_key","at");',
      '\nCREATE INDEX "tasks_flow_ready" ON "tasks" USING btree ("task_name","priority" DESC NULLS LAST,"id") WHERE "tasks"."status" = \'PENDING\';',
    ],
    bps: true,
    folderMillis: 1796320264916,
    hash: "75f2229489b6b5a10971c2417745dc0edc5c5d231233421ddf5181a2b714b635",
  },
  // 0006_task_dependencies
  {
    sql: [
      'CREATE TABLE "task_dependencies" (\n\t"task_id" text COLLATE "C" NOT NULL,\n\t"kind" text NOT NULL,\n\t"depends_on_id" text COLLATE "C" NOT NULL,\n\tCONSTRAINT "task_dependencies_task_id_kind_depends_on_id_pk" PRIMARY KEY("task_id","kind","depends_on_id")\n);\n',
      '\nALTER TABLE "tasks" ADD COLUMN "dependency_policy" text;',
      '\nALTER TABLE "tasks" ADD COLUMN "awaiting" text;',
      '\nALTER TABLE "task_dependencies" ADD CONSTRAINT "task_dependencies_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE cascade ON UPDATE no action;',
      '\nCREATE INDEX "task_dependencies_depends_on" ON "task_dependencies" USING btree ("depends_on_id");',
      '\nCREATE INDEX "tasks_parent_id" ON "tasks" USING btree ("parent_id");',
    ],
    bps: true,
    folderMillis: 1796324010763,
    hash: "dd38c09d07b5f0385ee12b8ef8a60173985c176e95123851e9fa352aa3627e51",
  },
  // 0007_partial_wait_indexes
  {
    sql: [
      'DROP INDEX "tasks_parent_id";',
      '\nCREATE INDEX "tasks_awaiting" ON "tasks" USING btree ("id") WHERE "tasks"."awaiting" IS NOT NULL;',
      '\nCREATE INDEX "tasks_parent_id" ON "tasks" USING btree ("parent_id") WHERE "tasks"."parent_id" IS NOT NULL;',
    ],
    bps: true,
    folderMillis: 1796325963041,
    hash: "92fb9c42dc90bef52a0fc700fcff157e46822f52210d60dc7be8a6dd6afeaf77",
  },
  // 0008_param_search
  {
    sql: [
      'CREATE TABLE "task_params" (\n\t"task_id" text COLLATE "C" NOT NULL,\n\t"path" text NOT NULL,\n\t"value" text NOT NULL,\n\tCONSTRAINT "task_params_task_id_path_pk" PRIMARY KEY("task_id","path")\n);\n',
      '\nALTER TABLE "task_params" ADD CONSTRAINT "task_params_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE cascade ON UPDATE no action;',
      '\nCREATE INDEX "task_params_path_value" ON "task_params" USING btree ("path","value","task_id");',
      '\nCREATE INDEX "tasks_end_time" ON "tasks" USING btree ("end_time","id") WHERE "tasks"."end_time" IS NOT NULL;',
    ],
    bps: true,
    folderMillis: 1796327392780,
    hash: "fd44aec5ee8cd811964c0d284f1636da53ec16d39da2d33a0fc11b7c0382882f",
  },
  // 0009_ready_without_held_back
  {
    sql: [
      'DROP INDEX "tasks_ready";',
      '\nDROP INDEX "tasks_flow_ready";',
      '\nCREATE INDEX "tasks_ready" ON "tasks" USING btree ("priority" DESC NULLS LAST,"id") WHERE "tasks"."status" = \'PENDING\' AND "tasks"."awaiting" IS NULL;',
      '\nCREATE INDEX "tasks_flow_ready" ON "tasks" USING btree ("task_name","priority" DESC NULLS LAST,"id") WHERE "tasks"."status" = \'PENDING\' AND "tasks"."awaiting" IS NULL;',
    ],
    bps: true,
    folderMillis: 1796329003445,
    hash: "cf7a5ef227fba45d472c5edece9f066a5ab31278fecc5aeef4b2a6a4fcc0e83e",
  },
];
