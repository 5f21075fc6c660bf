import { BadRequestException, ValidationPipe, type ArgumentMetadata } from '@nestjs/common';
import { inheritedKeys, unknownPropertyMessage } from '../utils/validation.util.js';

/**
 * Nest's ValidationPipe with `whitelist`, `forbidNonWhitelisted`, `forbidUnknownValues` and
 * `transform`, which also refuses keys such as `constructor` or `toString` (see `inheritedKeys`).
 * The HTTP routes of the module use it whatever pipes the host has.
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
        throw new BadRequestException(inherited.map(unknownPropertyMessage));
      }
    }
    return super.transform(value, metadata);
  }
}
