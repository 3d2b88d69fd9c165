import type { StreamEvent, TaskJson, TaskStatus } from "./types.ts";

export interface Filters {
  status: TaskStatus | "";
  name: string;
  tag: string;
}

export interface TaskPage {
  items: TaskJson[];
  nextCursor: string | null;
}

export function matches(task: TaskJson, filters: Filters): boolean {
  if (filters.status && task.status !== filters.status) return false;
  if (filters.name && task.name !== filters.name) return false;
  if (filters.tag && !task.tags.includes(filters.tag)) return false;
  return true;
}

/**
 * One page of the table after a live event. Tasks on the page take the event's state in place
 * (a row does not jump away when its status leaves the filter). A new task that matches the
 * filters goes on top of the first page only, so paging further back stays stable; the row it
 * pushes off becomes the first of the next page.
 */
export function applyEvent(
  page: TaskPage,
  event: StreamEvent,
  view: { filters: Filters; firstPage: boolean; limit: number },
): TaskPage {
  if (event.type === "log") return page;
  if (event.type === "progress") {
    const { taskId, progress } = event.data;
    const index = page.items.findIndex((task) => task.id === taskId);
    if (index === -1) return page;
    const items = page.items.slice();
    items[index] = { ...(items[index] as TaskJson), progress };
    return { ...page, items };
  }
  const task = event.data.task;
  const index = page.items.findIndex((item) => item.id === task.id);
  if (index !== -1) {
    const items = page.items.slice();
    items[index] = task;
    return { ...page, items };
  }
  const created = event.type === "transition" && event.data.from === null;
  if (!created || !view.firstPage || !matches(task, view.filters)) return page;
  const items = [task, ...page.items];
  if (items.length <= view.limit) return { ...page, items };
  items.length = view.limit;
  return { items, nextCursor: (items.at(-1) as TaskJson).id };
}

/** The page without a task (deleted from this page). */
export function withoutTask(page: TaskPage, id: string): TaskPage {
  return { ...page, items: page.items.filter((task) => task.id !== id) };
}

/** The page with a task's newer state (an action's answer), if the task is on it. */
export function withTask(page: TaskPage, task: TaskJson): TaskPage {
  const index = page.items.findIndex((item) => item.id === task.id);
  if (index === -1) return page;
  const items = page.items.slice();
  items[index] = task;
  return { ...page, items };
}
