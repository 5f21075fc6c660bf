import { BadRequestException, Injectable, type ArgumentMetadata } from '@nestjs/common';
import { StrictValidationPipe } from './strict-validation.pipe.js';

/**
 * The strict pipe for `PATCH v1/me/preferences`. NOTE: category names are keys of the body, and
 * class-transformer fails on (or silently drops) keys that Object.prototype has (`constructor`,
 * `__proto__`): those are refused here by name before it sees them.
 */
@Injectable()
export class PreferencesPatchPipe extends StrictValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const categories = (value as { categories?: unknown } | null)?.categories;
    if (typeof categories === 'object' && categories !== null && !Array.isArray(categories)) {
      const reserved = Object.keys(categories).filter((name) => name in Object.prototype);
      if (reserved.length > 0) {
        throw new BadRequestException(
          reserved
            .slice(0, 10)
            .map(
              (name) =>
                `categories: ${JSON.stringify(name)} is reserved (a name Object.prototype has)`,
            ),
        );
      }
    }
    return super.transform(value, metadata);
  }
}
