// Aims that need figures of two scenarios: tasks must keep finishing while POST /tasks is
// loaded, at no less than half the rate the library reaches on its own (the peers scenario's
// kiln at its defaults, single enqueue).
import type { Headline, ScenarioResult } from "./util.ts";

export function crossScenarioHeadlines(
  results: Record<string, ScenarioResult>,
): (Headline & { scenario: string })[] {
  const http = results.http?.figures as { finishedPerSecDuringPost?: number } | undefined;
  if (http?.finishedPerSecDuringPost === undefined) return [];
  const medians = (results.peers?.figures as { medians?: Record<string, number | null> } | undefined)
    ?.medians;
  const library = medians?.["kiln/single"] ?? null;
  const finishing = http.finishedPerSecDuringPost;
  return [
    {
      scenario: "http + peers",
      what: "tasks finished per second while POST /tasks is loaded ÷ the library's rate (kiln defaults, single enqueue)",
      aim: "≥ 0.5×",
      measured:
        library === null
          ? `${finishing} tasks/s finished under load; the library rate was not measured in this run (run the peers scenario too)`
          : `${finishing} ÷ ${library} tasks/s = × ${Math.round((finishing / library) * 100) / 100}`,
      met: library === null ? null : finishing / library >= 0.5,
    },
  ];
}
