import {
  BadRequestException,
  HttpException,
  ValidationPipe,
  type ArgumentMetadata,
  type ValidationPipeOptions,
} from '@nestjs/common';
import { inheritedKeys, unknownPropertyMessage } from '../utils/validation.util.js';

/**
 * Nest's ValidationPipe with `whitelist`, `forbidNonWhitelisted`, `forbidUnknownValues` and
 * `transform`, which also refuses keys such as `constructor` or `toString` (see `inheritedKeys`).
 * Any other failure to transform or validate a value answers 400 as well. The HTTP routes of the
 * module use it whatever pipes the host has. `stopAtFirstError` reports only the first broken rule
 * of each property.
 */
export class StrictValidationPipe extends ValidationPipe {
  constructor(options: Pick<ValidationPipeOptions, 'stopAtFirstError'> = {}) {
    super({
      ...options,
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
    try {
      return await super.transform(value, metadata);
    } catch (error) {
      if (error instanceof HttpException) throw error;
      // A value class-transformer or class-validator cannot handle is the client's input, not a
      // fault of the server: 400, with no stack in the log.
      throw new BadRequestException(`invalid ${metadata.type}`);
    }
  }
}
