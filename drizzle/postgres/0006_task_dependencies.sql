CREATE TABLE "task_dependencies" (
	"task_id" text COLLATE "C" NOT NULL,
	"kind" text NOT NULL,
	"depends_on_id" text COLLATE "C" NOT NULL,
	CONSTRAINT "task_dependencies_task_id_kind_depends_on_id_pk" PRIMARY KEY("task_id","kind","depends_on_id")
);
--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "dependency_policy" text;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "awaiting" text;--> statement-breakpoint
ALTER TABLE "task_dependencies" ADD CONSTRAINT "task_dependencies_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "task_dependencies_depends_on" ON "task_dependencies" USING btree ("depends_on_id");--> statement-breakpoint
CREATE INDEX "tasks_parent_id" ON "tasks" USING btree ("parent_id");