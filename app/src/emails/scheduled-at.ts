/**
 * `scheduled_at` as Resend takes it: an ISO 8601 date-time with an offset, or a few English
 * phrases, all in UTC (docs/http-api.md#scheduling lists the grammar):
 *
 *   in <n> <unit>                 unit: second(s), sec(s), minute(s), min(s), hour(s), hr(s),
 *                                 day(s), week(s)
 *   (today|tomorrow) at <time>    time: 9am, 9:30pm, 12am, 17:00, 17:00:30
 */

const ISO_WITH_OFFSET =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

const IN_DURATION = /^in\s+(\d{1,7})\s*([a-z]+)$/;
const DAY_AT_TIME = /^(today|tomorrow)\s+at\s+(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?\s*(am|pm)?$/;

const UNIT_SECONDS: Readonly<Record<string, number>> = {
  second: 1,
  seconds: 1,
  sec: 1,
  secs: 1,
  s: 1,
  minute: 60,
  minutes: 60,
  min: 60,
  mins: 60,
  m: 60,
  hour: 3600,
  hours: 3600,
  hr: 3600,
  hrs: 3600,
  h: 3600,
  day: 86_400,
  days: 86_400,
  d: 86_400,
  week: 604_800,
  weeks: 604_800,
  w: 604_800,
};

export const SCHEDULED_AT_FORMATS =
  'an ISO 8601 date-time with an offset (2030-01-02T09:00:00Z, 2030-01-02T10:00:00+01:00), "in <n> <seconds|minutes|hours|days|weeks>" (e.g. "in 1 min") or "today|tomorrow at <time>" (e.g. "tomorrow at 9am", UTC)';

/** The time `text` names, relative to `now`; undefined when it is none of the accepted forms. */
export function parseScheduledAt(text: string, now: Date): Date | undefined {
  const value = text.trim();
  if (ISO_WITH_OFFSET.test(value)) {
    const time = Date.parse(value);
    return Number.isNaN(time) ? undefined : new Date(time);
  }
  const phrase = value.toLowerCase().replace(/\s+/g, ' ');
  const duration = IN_DURATION.exec(phrase);
  if (duration) {
    const unit = UNIT_SECONDS[duration[2] ?? ''];
    return unit === undefined
      ? undefined
      : new Date(now.getTime() + Number(duration[1]) * unit * 1000);
  }
  const dayAt = DAY_AT_TIME.exec(phrase);
  if (dayAt) return dayAtTime(now, dayAt);
  return undefined;
}

function dayAtTime(now: Date, match: RegExpExecArray): Date | undefined {
  const [, day, hourText, minuteText, secondText, meridiem] = match;
  let hour = Number(hourText);
  const minute = Number(minuteText ?? 0);
  const second = Number(secondText ?? 0);
  if (meridiem) {
    if (hour < 1 || hour > 12) return undefined;
    hour = (hour % 12) + (meridiem === 'pm' ? 12 : 0);
  }
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(
    Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), hour, minute, second),
  );
  if (day === 'tomorrow') date.setUTCDate(date.getUTCDate() + 1);
  return date;
}

/**
 * Checks that `text` names a time after `now` and at most `maxDays` days ahead; the time, or
 * the reason it is refused (to follow `scheduled_at: `).
 */
export function resolveScheduledAt(
  text: string,
  now: Date,
  maxDays: number,
): { at: Date } | { error: string } {
  const at = parseScheduledAt(text, now);
  if (!at) return { error: `"${text}" is not a time SelfMX reads; give ${SCHEDULED_AT_FORMATS}` };
  if (at.getTime() <= now.getTime()) {
    return { error: `${at.toISOString()} is not in the future; give a later time` };
  }
  const latest = now.getTime() + maxDays * 86_400_000;
  if (at.getTime() > latest) {
    return {
      error: `${at.toISOString()} is more than ${maxDays} days ahead (SCHEDULED_SEND_MAX_DAYS); give an earlier time`,
    };
  }
  return { at };
}
