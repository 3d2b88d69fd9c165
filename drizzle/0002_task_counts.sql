CREATE TABLE `task_counts` (
	`status` text NOT NULL,
	`task_name` text NOT NULL,
	`count` integer NOT NULL,
	PRIMARY KEY(`status`, `task_name`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `task_counts` (`status`, `task_name`, `count`)
	SELECT `status`, `task_name`, count(*) FROM `tasks` GROUP BY `status`, `task_name`;
--> statement-breakpoint
CREATE TRIGGER `task_counts_insert` AFTER INSERT ON `tasks` BEGIN
	INSERT INTO `task_counts` (`status`, `task_name`, `count`) VALUES (NEW.`status`, NEW.`task_name`, 1)
		ON CONFLICT (`status`, `task_name`) DO UPDATE SET `count` = `count` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `task_counts_delete` AFTER DELETE ON `tasks` BEGIN
	UPDATE `task_counts` SET `count` = `count` - 1
		WHERE `status` = OLD.`status` AND `task_name` = OLD.`task_name`;
END;
--> statement-breakpoint
CREATE TRIGGER `task_counts_update` AFTER UPDATE OF `status`, `task_name` ON `tasks`
	WHEN OLD.`status` IS NOT NEW.`status` OR OLD.`task_name` IS NOT NEW.`task_name` BEGIN
	UPDATE `task_counts` SET `count` = `count` - 1
		WHERE `status` = OLD.`status` AND `task_name` = OLD.`task_name`;
	INSERT INTO `task_counts` (`status`, `task_name`, `count`) VALUES (NEW.`status`, NEW.`task_name`, 1)
		ON CONFLICT (`status`, `task_name`) DO UPDATE SET `count` = `count` + 1;
END;
