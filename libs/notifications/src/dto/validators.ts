import {
  registerDecorator,
  type ValidationArguments,
  type ValidationOptions,
} from 'class-validator';
import { isWellFormedId, WELL_FORMED_ID_RULE } from '../utils/well-formed-id.util.js';

/** How deeply objects and arrays nest in `value`, counted without recursion. */
export function jsonDepth(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    deepest = Math.max(deepest, depth);
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Objects and arrays nest at most `maxDepth` levels (the value itself is level 1). */
export function MaxJsonDepth(maxDepth: number, options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'maxJsonDepth',
      target: target.constructor,
      propertyName: propertyName as string,
      constraints: [maxDepth],
      options: {
        message: ({ property }: ValidationArguments) =>
          `${property} must nest at most ${maxDepth} levels deep`,
        ...options,
      },
      validator: { validate: (value: unknown) => jsonDepth(value) <= maxDepth },
    });
}

/**
 * A string of `min`–`max` UTF-16 code units, the same count as `String.length` (and as the token's
 * `sub` check), unlike `@Length`, which counts some characters differently.
 */
export function StringLength(
  min: number,
  max: number,
  options?: ValidationOptions,
): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'stringLength',
      target: target.constructor,
      propertyName: propertyName as string,
      constraints: [min, max],
      options: {
        message: ({ property }: ValidationArguments) =>
          `${options?.each ? 'each value in ' : ''}${property} must be ${min}-${max} characters long`,
        ...options,
      },
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' && value.length >= min && value.length <= max,
      },
    });
}

/** A string that is safe as a Redis key part: see `isWellFormedId`. Non-strings are left to others. */
export function WellFormedId(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'wellFormedId',
      target: target.constructor,
      propertyName: propertyName as string,
      constraints: [],
      options: {
        message: ({ property }: ValidationArguments) =>
          `${options?.each ? 'each value in ' : ''}${property} must be ${WELL_FORMED_ID_RULE}`,
        ...options,
      },
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || isWellFormedId(value),
      },
    });
}

/**
 * The serialized JSON of the value is at most `maxBytes` bytes (UTF-8). A value too deep to
 * serialize is left to `MaxJsonDepth`.
 */
export function MaxJsonBytes(maxBytes: number, options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'maxJsonBytes',
      target: target.constructor,
      propertyName: propertyName as string,
      constraints: [maxBytes],
      options: {
        message: ({ property }: ValidationArguments) =>
          `${property} must be at most ${maxBytes} bytes as JSON`,
        ...options,
      },
      validator: {
        validate: (value: unknown) => {
          try {
            return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8') <= maxBytes;
          } catch (error) {
            return error instanceof RangeError;
          }
        },
      },
    });
}

/** Exactly one of this property and `other` is present. */
export function ExactlyOneOf(other: string, options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'exactlyOneOf',
      target: target.constructor,
      propertyName: propertyName as string,
      constraints: [other],
      options: {
        message: ({ property }: ValidationArguments) =>
          `exactly one of ${property} or ${other} is required`,
        ...options,
      },
      validator: {
        validate: (value: unknown, args: ValidationArguments) =>
          (value === undefined) !== ((args.object as Record<string, unknown>)[other] === undefined),
      },
    });
}

// `YYYY-MM-DDTHH:mm[:ss[.fraction]]` and a zone (`Z` or `±HH:mm`).
const ISO_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

/**
 * An ISO 8601 date and time with a zone, of a day that exists (`Date.parse` alone takes February 30
 * and leaves the zone out of the question).
 */
export function isIsoTimestamp(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const match = ISO_TIMESTAMP.exec(value);
  if (!match) return false;
  const [, year, month, day, hour, minute, second, zoneHour, zoneMinute] = match.map((part) =>
    part === undefined ? 0 : Number(part),
  );
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    zoneHour <= 23 &&
    zoneMinute <= 59 &&
    Number.isFinite(Date.parse(value))
  );
}

/** An ISO 8601 date and time with a zone (see isIsoTimestamp). */
export function IsIsoTimestamp(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isIsoTimestamp',
      target: target.constructor,
      propertyName: propertyName as string,
      options: {
        message: ({ property }: ValidationArguments) =>
          `${property} must be an ISO 8601 date and time with a zone, e.g. 2030-01-31T12:00:00Z`,
        ...options,
      },
      validator: { validate: (value: unknown) => isIsoTimestamp(value) },
    });
}

/** The property may only be given together with `other` (e.g. a filter that needs `all`). */
export function OnlyWith(other: string, options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'onlyWith',
      target: target.constructor,
      propertyName: propertyName as string,
      constraints: [other],
      options: {
        message: ({ property }: ValidationArguments) =>
          `${property} may only be given with ${other}`,
        ...options,
      },
      validator: {
        validate: (value: unknown, args: ValidationArguments) =>
          value === undefined || (args.object as Record<string, unknown>)[other] !== undefined,
      },
    });
}
