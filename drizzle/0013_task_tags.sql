CREATE TABLE `task_tags` (
	`task_id` text NOT NULL,
	`tag` text NOT NULL,
	PRIMARY KEY(`task_id`, `tag`),
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `task_tags_tag` ON `task_tags` (`tag`,`task_id`);--> statement-breakpoint
INSERT OR IGNORE INTO `task_tags` (`task_id`, `tag`)
SELECT `t`.`id`, `j`.`value`
FROM (SELECT `id`, `tags` FROM `tasks` WHERE json_valid(`tags`) AND json_type(`tags`) = 'array') AS `t`,
  json_each(`t`.`tags`) AS `j`
WHERE `j`.`type` = 'text';
