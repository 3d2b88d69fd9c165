// A schedule's timing as a short plain phrase for the schedules page. Common cron shapes get
// words; anything else is shown as the expression itself ("cron 5 4 1-7 * 1").

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const NUMBER = /^\d+$/;
const STEP = /^\*\/(\d+)$/;

const plural = (n: number, unit: string) => (n === 1 ? `every ${unit}` : `every ${n} ${unit}s`);
const pad = (value: string) => value.padStart(2, "0");

/** "every 30 s", "every 5 min", "every 2 h", "every 1500 ms". */
export function intervalWords(everyMs: number): string {
  if (everyMs % 3_600_000 === 0) return `every ${everyMs / 3_600_000} h`;
  if (everyMs % 60_000 === 0) return `every ${everyMs / 60_000} min`;
  if (everyMs % 1_000 === 0) return `every ${everyMs / 1_000} s`;
  return `every ${everyMs} ms`;
}

/** The five fields (minute hour day month weekday) without their time zone; null when not a known shape. */
function fiveFieldWords(fields: string[]): string | null {
  const [minute, hour, day, month, weekday] = fields as [string, string, string, string, string];
  if (month !== "*") return null;
  const anyDay = day === "*" && weekday === "*";
  if (anyDay && hour === "*") {
    if (minute === "*") return "every minute";
    const step = STEP.exec(minute);
    if (step) return plural(Number(step[1]), "minute");
    if (NUMBER.test(minute)) return `every hour at minute ${Number(minute)}`;
    return null;
  }
  if (!NUMBER.test(minute) || !NUMBER.test(hour)) return null;
  const time = `${pad(hour)}:${pad(minute)}`;
  if (anyDay) return `every day at ${time}`;
  if (day === "*" && NUMBER.test(weekday) && Number(weekday) <= 7)
    return `every ${DAYS[Number(weekday)]} at ${time}`;
  if (weekday === "*" && NUMBER.test(day)) return `on day ${Number(day)} of every month at ${time}`;
  return null;
}

function cronWords(cron: string): string | null {
  const fields = cron.trim().split(/\s+/);
  if (fields.length === 6) {
    const [second, ...rest] = fields as [string, ...string[]];
    if (rest.every((field) => field === "*")) {
      if (second === "*") return "every second";
      const step = STEP.exec(second);
      if (step) return `every ${step[1]} s`;
      return null;
    }
    return second === "0" ? fiveFieldWords(rest) : null;
  }
  return fields.length === 5 ? fiveFieldWords(fields) : null;
}

/** "every day at 03:00 (Europe/Berlin)", "every 30 s", or "cron <expr> (UTC)" for other shapes. */
export function scheduleWords(schedule: {
  cron: string | null;
  everyMs: number | null;
  timezone: string | null;
}): string {
  if (schedule.cron === null) return schedule.everyMs === null ? "-" : intervalWords(schedule.everyMs);
  const words = cronWords(schedule.cron) ?? `cron ${schedule.cron}`;
  // Sub-minute steps do not depend on the zone; naming it would only add noise.
  if (/^every (\d+ )?(second|s|minute|minutes)$/.test(words)) return words;
  return `${words} (${schedule.timezone ?? "UTC"})`;
}
