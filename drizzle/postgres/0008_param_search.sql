CREATE TABLE "task_params" (
	"task_id" text COLLATE "C" NOT NULL,
	"path" text NOT NULL,
	"value" text NOT NULL,
	CONSTRAINT "task_params_task_id_path_pk" PRIMARY KEY("task_id","path")
);
--> statement-breakpoint
ALTER TABLE "task_params" ADD CONSTRAINT "task_params_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "task_params_path_value" ON "task_params" USING btree ("path","value","task_id");--> statement-breakpoint
CREATE INDEX "tasks_end_time" ON "tasks" USING btree ("end_time","id") WHERE "tasks"."end_time" IS NOT NULL;