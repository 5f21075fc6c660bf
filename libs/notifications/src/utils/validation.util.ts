import { validateSync, type ValidationError } from 'class-validator';

/** One offending field of a rejected notification, with what is wrong with it. */
export interface FieldError {
  /** Dotted path of the offending field, e.g. `userIds.3`. */
  field: string;
  messages: string[];
}

export type ValidationOutcome<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = error.constraints ? [{ field, messages: Object.values(error.constraints) }] : [];
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/**
 * Keys of `value` that are also found on Object.prototype (`__proto__`, `constructor`, `toString`…):
 * class-validator looks unknown keys up in a plain object, finds these there and lets them through,
 * so every validation of untrusted data reports them itself.
 */
export function inheritedKeys(value: object): string[] {
  return Object.keys(value).filter((key) => key in Object.prototype);
}

/** The message for a property the DTO does not declare, worded as class-validator words it. */
export const unknownPropertyMessage = (key: string) => `property ${key} should not exist`;

/**
 * Validates untrusted plain data (a parsed frame, a job, an HTTP body) against a class-validator DTO:
 * unknown properties are errors. Keys are copied as own properties, so `__proto__` or `constructor`
 * keys are reported as unknown instead of reaching a prototype.
 */
export function validatePlain<T extends object>(
  dto: new () => T,
  plain: unknown,
): ValidationOutcome<T> {
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
    return { ok: false, errors: [{ field: '(root)', messages: ['must be a JSON object'] }] };
  }
  // NOTE: keys found on Object.prototype slip through class-validator: report them here instead,
  // and validate the rest as usual.
  const inherited = inheritedKeys(plain);
  const instance = new dto();
  for (const key of Object.keys(plain)) {
    if (inherited.includes(key)) continue;
    Object.defineProperty(instance, key, {
      value: (plain as Record<string, unknown>)[key],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  const errors = validateSync(instance, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
  });
  const all = [
    ...inherited.map((key) => ({ field: key, messages: [unknownPropertyMessage(key)] })),
    ...flatten(errors),
  ];
  if (all.length > 0) return { ok: false, errors: all };
  return { ok: true, value: instance };
}

/**
 * `userId must be a string; type must match …`: names every offending field. Messages of nested
 * fields say where they are: `items.3: type must …`.
 */
export function describeFieldErrors(errors: FieldError[]): string {
  return errors
    .map((error) => {
      const dot = error.field.lastIndexOf('.');
      const where = dot > 0 ? `${error.field.slice(0, dot)}: ` : '';
      return where + error.messages.join(', ');
    })
    .join('; ');
}
