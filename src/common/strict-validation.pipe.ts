import { BadRequestException, ValidationPipe, type ArgumentMetadata } from '@nestjs/common';

/**
 * Nest's ValidationPipe with `whitelist`, `forbidNonWhitelisted`, `forbidUnknownValues` and
 * `transform`, which also refuses keys such as `constructor` or `toString`: class-validator looks
 * unknown keys up in a plain object, finds those on Object.prototype and lets them through.
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
      const inherited = Object.keys(value).filter((key) => key in Object.prototype);
      if (inherited.length > 0) {
        throw new BadRequestException(inherited.map((key) => `property ${key} should not exist`));
      }
    }
    return super.transform(value, metadata);
  }
}
