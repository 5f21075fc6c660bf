import {
  registerDecorator,
  type ValidationArguments,
  type ValidationOptions,
} from 'class-validator';

/** The serialized JSON of the value is at most `maxBytes` bytes (UTF-8). */
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
          } catch {
            return false;
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
