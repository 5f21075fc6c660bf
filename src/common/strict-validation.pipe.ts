import { BadRequestException, ValidationPipe, type ArgumentMetadata } from '@nestjs/common';

/**
 * Keys of `value` that are also found on Object.prototype (`__proto__`, `constructor`, `toString`…):
 * class-validator looks unknown keys up in a plain object, finds these there and lets them through.
 */
const inheritedKeys = (value: object): string[] =>
  Object.keys(value).filter((key) => key in Object.prototype);

/**
 * Nest's ValidationPipe with `whitelist`, `forbidNonWhitelisted`, `forbidUnknownValues` and
 * `transform`, which also refuses keys such as `constructor` or `toString`: for the service's own
 * routes (the notifications routes validate with the library's own pipe).
 */
export class StrictValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const hasDto = metadata.metatype !== undefined && metadata.metatype !== Object;
    if (hasDto && typeof value === 'object' && value !== null && metadata.type !== 'custom') {
      const inherited = inheritedKeys(value);
      if (inherited.length > 0) {
        throw new BadRequestException(inherited.map((key) => `property ${key} should not exist`));
      }
    }
    return super.transform(value, metadata);
  }
}
