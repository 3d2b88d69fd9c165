import { html } from "htm/preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { api } from "../api.ts";
import { useNow } from "../hooks.ts";
import { useDeletions, useLiveEvents, useReconnect } from "../live.ts";
import { applyEvent, type Filters, type TaskPage, withoutTask, withTask } from "../task-page.ts";
import type { StreamEvent, TaskJson } from "../types.ts";
import { BulkActions } from "./bulk-actions.ts";
import { Pager } from "./pager.ts";
import { TaskFilters } from "./task-filters.ts";
import { TaskTable } from "./task-table.ts";

interface View {
  filters: Filters;
  limit: number;
  /** The cursor of this page (undefined: the newest page) and of the pages before it. */
  cursor: string | undefined;
  back: (string | undefined)[];
}

const FIRST_VIEW: View = {
  filters: { status: "", name: "", tag: "" },
  limit: 50,
  cursor: undefined,
  back: [],
};

const isLive = (task: TaskJson) => task.startTime !== null && task.endTime === null;

/**
 * The task table: one page from GET /tasks, kept current by the event stream. Events that
 * arrive while a page is loading are replayed onto it, so none is lost to the race.
 */
export function TaskList({ names }: { names: string[] }) {
  const [view, setView] = useState<View>(FIRST_VIEW);
  const [page, setPage] = useState<TaskPage>({ items: [], nextCursor: null });
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const during = useRef<StreamEvent[] | null>(null);
  const latest = useRef(0);
  const placement = { filters: view.filters, firstPage: view.cursor === undefined, limit: view.limit };

  const load = useCallback(async () => {
    const request = ++latest.current;
    during.current = [];
    setLoading(true);
    try {
      const { filters, limit, cursor } = view;
      const fetched = await api.listTasks({ ...filters, status: filters.status || undefined, limit, cursor });
      if (request !== latest.current) return;
      const where = { filters, firstPage: cursor === undefined, limit };
      const missed = during.current ?? [];
      setPage(missed.reduce((current, event) => applyEvent(current, event, where), fetched as TaskPage));
      setError(null);
    } catch (caught) {
      if (request === latest.current) setError(caught instanceof Error ? caught.message : String(caught));
    } finally {
      if (request === latest.current) {
        during.current = null;
        setLoading(false);
      }
    }
  }, [view]);

  useEffect(() => {
    void load();
  }, [load]);
  useReconnect(() => void load());
  useLiveEvents((event) => {
    during.current?.push(event);
    setPage((current) => applyEvent(current, event, placement));
  });

  // Relative times move on too: a render every second while a duration grows, else every
  // 15 s. Each render reads the clock, so a row that just arrived is never ahead of "now".
  useNow(page.items.some(isLive) ? 1_000 : 15_000, true);
  const now = Date.now();
  const onTask = useCallback((task: TaskJson) => setPage((current) => withTask(current, task)), []);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  // A selection belongs to the rows on screen: another page or other filters start afresh.
  useEffect(() => setSelected(new Set()), [view]);
  const onSelect = useCallback(
    (ids: string[], on: boolean) =>
      setSelected((current) => {
        const next = new Set(current);
        for (const id of ids) {
          if (on) next.add(id);
          else next.delete(id);
        }
        return next;
      }),
    [],
  );
  useDeletions((id) => {
    setPage((current) => withoutTask(current, id));
    setSelected((current) => {
      if (!current.has(id)) return current;
      const next = new Set(current);
      next.delete(id);
      return next;
    });
  });
  const onFilters = useCallback(
    (filters: Filters) => setView((current) => ({ ...current, filters, cursor: undefined, back: [] })),
    [],
  );

  return html`<section class="task-list" aria-label="Tasks">
    <${TaskFilters} filters=${view.filters} names=${names} onChange=${onFilters} />
    <${BulkActions}
      filters=${view.filters}
      selected=${page.items.filter((task) => selected.has(task.id)).map((task) => task.id)}
      onClearSelection=${() => setSelected(new Set())}
    />
    ${error && html`<p class="error" role="alert">Could not load the tasks: ${error}</p>`}
    <${TaskTable}
      tasks=${page.items}
      now=${now}
      loading=${loading}
      onTask=${onTask}
      selected=${selected}
      onSelect=${onSelect}
    />
    <${Pager}
      page=${view.back.length + 1}
      hasNewer=${view.cursor !== undefined}
      hasOlder=${page.nextCursor !== null && !loading}
      limit=${view.limit}
      onNewest=${() => setView((current) => ({ ...current, cursor: undefined, back: [] }))}
      onNewer=${() =>
        setView((current) => ({ ...current, cursor: current.back.at(-1), back: current.back.slice(0, -1) }))}
      onOlder=${() =>
        setView((current) =>
          page.nextCursor === null
            ? current
            : { ...current, cursor: page.nextCursor, back: [...current.back, current.cursor] },
        )}
      onLimit=${(limit: number) => setView((current) => ({ ...current, limit, cursor: undefined, back: [] }))}
    />
  </section>`;
}
