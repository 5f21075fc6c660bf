import {
  Injectable,
  UnsupportedMediaTypeException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { RequestWithHeaders } from '../auth/bearer.js';

/**
 * `application/json`, parameters (`; charset=utf-8`) aside: the one type that Nest's and the
 * service's JSON body parsers read by default.
 */
function isJsonMediaType(header: string | string[] | undefined): boolean {
  const type = (typeof header === 'string' ? header : '').split(';')[0].trim().toLowerCase();
  return type === 'application/json';
}

/**
 * 415 for a body that is not declared JSON: body parsers leave such a body unread, and the route
 * would otherwise answer that its fields are missing. Works with Express and Fastify.
 */
@Injectable()
export class JsonBodyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const { headers } = context.switchToHttp().getRequest<RequestWithHeaders>();
    if (!isJsonMediaType(headers['content-type'])) {
      throw new UnsupportedMediaTypeException(
        'the body must be JSON (Content-Type: application/json)',
      );
    }
    return true;
  }
}
