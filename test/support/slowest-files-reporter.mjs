/**
 * A node:test reporter for `npm test`: node's own output (spec on a terminal, TAP otherwise, as
 * node picks when no reporter is named), then the slowest test files with their wall time, so a
 * file that became slow shows in every run. Test results and the exit code stay node's.
 *
 * JavaScript, not TypeScript: node 20 imports reporters without the loader tsx registers.
 * Usage: `tsx --test --test-reporter=./test/support/slowest-files-reporter.mjs
 * --test-reporter-destination=stdout <files>`.
 */
import { relative } from 'node:path';
import { Readable } from 'node:stream';
import { spec, tap } from 'node:test/reporters';

const SHOWN = 10;

/**
 * The runner runs each file in its own process and reports it as a test named by its path: that
 * test's `test:complete` carries the file's wall time, from start to exit.
 * @param {AsyncIterable<import('node:test/reporters').TestEvent>} source
 * @param {Map<string, number>} durations file path → milliseconds, filled as files end
 */
async function* recordingFileDurations(source, durations) {
  for await (const event of source) {
    if (event.type === 'test:complete' && event.data.file && event.data.name === event.data.file) {
      durations.set(event.data.file, event.data.details.duration_ms);
    }
    yield event;
  }
}

/** @param {Map<string, number>} durations */
function slowestFilesTable(durations) {
  const slowest = [...durations].sort(([, a], [, b]) => b - a).slice(0, SHOWN);
  const rows = slowest.map(
    ([file, ms]) => `#   ${(ms / 1000).toFixed(1).padStart(7)} s  ${relative(process.cwd(), file)}`,
  );
  return [`# slowest ${slowest.length} of ${durations.size} test files`, ...rows, ''].join('\n');
}

/** @param {AsyncIterable<import('node:test/reporters').TestEvent>} source */
export default async function* slowestFilesReporter(source) {
  /** @type {Map<string, number>} */
  const durations = new Map();
  const events = recordingFileDurations(source, durations);
  const output = process.stdout.isTTY ? Readable.from(events).pipe(new spec()) : tap(events);
  for await (const chunk of output) yield chunk;
  if (durations.size > 0) yield slowestFilesTable(durations);
}
