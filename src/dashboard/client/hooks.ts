import { useEffect, useRef, useState } from "preact/hooks";

/** The current time, refreshed every `everyMs` while `active` (for durations that grow). */
export function useNow(everyMs: number, active: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs, active]);
  return now;
}

/**
 * A stable function that runs the latest `callback` at most once per `ms`: the first call at
 * once, later ones folded into one call at the end of the window.
 */
export function useThrottle(callback: () => void, ms: number): () => void {
  const latest = useRef(callback);
  latest.current = callback;
  const state = useRef<{ last: number; timer: ReturnType<typeof setTimeout> | undefined }>({
    last: 0,
    timer: undefined,
  });
  useEffect(() => () => clearTimeout(state.current.timer), []);
  const run = useRef(() => {
    const s = state.current;
    if (s.timer) return;
    const wait = s.last + ms - Date.now();
    const fire = () => {
      s.timer = undefined;
      s.last = Date.now();
      latest.current();
    };
    if (wait <= 0) fire();
    else s.timer = setTimeout(fire, wait);
  });
  return run.current;
}

export type Route =
  | { view: "list" }
  | { view: "schedules" }
  | { view: "nodes" }
  | { view: "task-types" }
  | { view: "task"; id: string };

function parseRoute(hash: string): Route {
  if (hash === "#/schedules") return { view: "schedules" };
  if (hash === "#/nodes") return { view: "nodes" };
  if (hash === "#/task-types") return { view: "task-types" };
  const match = /^#\/tasks\/(.+)$/.exec(hash);
  if (!match?.[1]) return { view: "list" };
  try {
    return { view: "task", id: decodeURIComponent(match[1]) };
  } catch {
    return { view: "list" };
  }
}

export const taskHref = (id: string) => `#/tasks/${encodeURIComponent(id)}`;

/** The view the URL's fragment names: `#/tasks/<id>` is a task's detail, `#/schedules` the schedules, `#/nodes` the nodes, `#/task-types` the task names, anything else the table. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", update);
    return () => removeEventListener("hashchange", update);
  }, []);
  return route;
}
