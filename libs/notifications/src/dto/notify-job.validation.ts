import { ContractLimits, type NotifyJobData } from '@rtnotify/protocol';
import { validatePlain, type ValidationOutcome } from '../utils/validation.util.js';
import { NotifyBatchJobDto, NotifyJobDto } from './notify-job.dto.js';
import { isWellFormedId } from '../utils/well-formed-id.util.js';
import { isIsoTimestamp, jsonDepth } from './validators.js';

const KEYS = new Set([
  'userId',
  'userIds',
  'type',
  'payload',
  'dedupeKey',
  'deliverAt',
  'category',
  'collapseKey',
  'expiresAt',
  'critical',
  'fallbackAfterSeconds',
]);

const isId = (value: unknown): value is string =>
  typeof value === 'string' &&
  value.length >= 1 &&
  value.length <= ContractLimits.userIdMaxLength &&
  isWellFormedId(value);

/** An object as JSON.parse makes one: not an array, and its prototype Object's. */
function isJsonObject(data: unknown): data is Record<string, unknown> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return false;
  return Object.getPrototypeOf(data) === Object.prototype;
}

/**
 * A quick check of the common, valid shape of a notification. It only ever says yes to data that
 * `NotifyJobDto` accepts too (a property test keeps it so); anything else goes to the DTO, whose
 * errors name the fields.
 */
export function isPlainlyValidNotification(data: unknown): boolean {
  if (!isJsonObject(data)) return false;
  const job = data;
  for (const key of Object.keys(job)) if (!KEYS.has(key)) return false;
  const { userId, userIds, type, payload, dedupeKey, category, collapseKey, expiresAt } = job;
  const { critical, fallbackAfterSeconds } = job;
  if (critical !== undefined && typeof critical !== 'boolean') return false;
  if (fallbackAfterSeconds !== undefined) {
    if (typeof fallbackAfterSeconds !== 'number' || !Number.isInteger(fallbackAfterSeconds)) {
      return false;
    }
    if (fallbackAfterSeconds < 0) return false;
    if (fallbackAfterSeconds > ContractLimits.fallbackAfterMaxSeconds) return false;
  }
  if ((userId === undefined) === (userIds === undefined)) return false;
  if (userId !== undefined && !isId(userId)) return false;
  if (userIds !== undefined) {
    if (!Array.isArray(userIds) || userIds.length < 1) return false;
    if (userIds.length > ContractLimits.maxUserIds || !userIds.every(isId)) return false;
  }
  if (typeof type !== 'string' || type.length > ContractLimits.typeMaxLength) return false;
  if (!ContractLimits.typePattern.test(type)) return false;
  if (dedupeKey !== undefined) {
    if (typeof dedupeKey !== 'string' || dedupeKey.length < 1) return false;
    if (dedupeKey.length > ContractLimits.dedupeKeyMaxLength) return false;
    if (!isWellFormedId(dedupeKey)) return false;
  }
  if (category !== undefined) {
    if (typeof category !== 'string' || category.length > ContractLimits.categoryMaxLength) {
      return false;
    }
    if (!ContractLimits.categoryPattern.test(category)) return false;
  }
  if (collapseKey !== undefined) {
    if (typeof collapseKey !== 'string' || collapseKey.length < 1) return false;
    if (collapseKey.length > ContractLimits.collapseKeyMaxLength) return false;
    if (!isWellFormedId(collapseKey)) return false;
  }
  if (expiresAt !== undefined && !isIsoTimestamp(expiresAt)) return false;
  if (job.deliverAt !== undefined && !isIsoTimestamp(job.deliverAt)) return false;
  if (payload !== undefined) {
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return false;
    if (jsonDepth(payload) > ContractLimits.payloadMaxDepth) return false;
    if (Buffer.byteLength(JSON.stringify(payload), 'utf8') > ContractLimits.payloadMaxBytes) {
      return false;
    }
  }
  return true;
}

/**
 * A quick check of a `notify-batch` job's shape: an object with `items` alone, 1 to
 * `maxBatchItems` objects (each is validated as a notification after). Like
 * isPlainlyValidNotification, it only ever says yes to data that `NotifyBatchJobDto` accepts (a
 * property test keeps it so), and anything else goes to the DTO, whose errors name the fields. The
 * DTO (class-validator) took 1.9 % of the service's busy time in a profile of HTTP publish at
 * 2,000/s, whose notifications the producer's group commit hands the worker as batch jobs.
 */
export function isPlainlyValidBatch(data: unknown): data is { items: object[] } {
  if (!isJsonObject(data)) return false;
  const keys = Object.keys(data);
  if (keys.length !== 1 || keys[0] !== 'items') return false;
  const { items } = data;
  if (!Array.isArray(items) || items.length < 1) return false;
  if (items.length > ContractLimits.maxBatchItems) return false;
  return items.every((item) => typeof item === 'object' && item !== null && !Array.isArray(item));
}

/** A `notify-batch` job's shape (not yet its items): the quick check, else the DTO and its errors. */
export function validateBatchShape(data: unknown): ValidationOutcome<NotifyBatchJobDto> {
  return isPlainlyValidBatch(data)
    ? { ok: true, value: data }
    : validatePlain(NotifyBatchJobDto, data);
}

/**
 * Validates one notification by the job contract: the quick check, else the DTO and its errors; then
 * the rules that need a clock: `expiresAt` must be later than `now` (when the job was enqueued), and
 * `deliverAt` later than `now`, at most 30 days after it, and earlier than `expiresAt`.
 */
export function validateNotification(
  data: unknown,
  now: number = Date.now(),
): ValidationOutcome<NotifyJobData> {
  const result: ValidationOutcome<NotifyJobData> = isPlainlyValidNotification(data)
    ? { ok: true, value: data as NotifyJobData }
    : validatePlain(NotifyJobDto, data);
  if (result.ok && result.value.expiresAt !== undefined) {
    if (Date.parse(result.value.expiresAt) <= now) {
      return {
        ok: false,
        errors: [{ field: 'expiresAt', messages: ['expiresAt must be in the future'] }],
      };
    }
  }
  if (result.ok && result.value.deliverAt !== undefined) {
    const messages = deliverAtErrors(result.value, now);
    if (messages.length > 0) return { ok: false, errors: [{ field: 'deliverAt', messages }] };
  }
  return result;
}

/** What is wrong with a well-formed `deliverAt`, given when the job was enqueued. */
function deliverAtErrors(job: NotifyJobData, now: number): string[] {
  const deliverAt = Date.parse(job.deliverAt as string);
  const maxAhead = ContractLimits.deliverAtMaxAheadSeconds;
  if (deliverAt <= now) return ['deliverAt must be in the future'];
  if (deliverAt > now + maxAhead * 1000) {
    return [`deliverAt must be at most ${maxAhead / 86_400} days ahead`];
  }
  if (job.expiresAt !== undefined && Date.parse(job.expiresAt) <= deliverAt) {
    return ['deliverAt must be earlier than expiresAt'];
  }
  return [];
}
