/**
 * The rows of `task_tags` that the stored tags of the tasks call for and that are missing: each
 * string of a task's tags array, once. What a migration of an older file and a recovery run, so
 * that the tag filter finds every task whose tags could be read; text that is not an array of
 * strings gives no row.
 */
export const RESTORE_TAG_ROWS_SQL = `
  INSERT OR IGNORE INTO task_tags (task_id, tag)
  SELECT t.id, j.value
  FROM (SELECT id, tags FROM tasks WHERE json_valid(tags) AND json_type(tags) = 'array') AS t,
    json_each(t.tags) AS j
  WHERE j.type = 'text'`;
