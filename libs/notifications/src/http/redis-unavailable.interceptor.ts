import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { catchError, throwError, type Observable } from 'rxjs';
import { NotificationsUnavailableError } from '../errors/notifications-unavailable.error.js';
import { isTransientRedisError } from '../utils/transient-error.util.js';

/**
 * A handler's Redis error that means "unreachable for now" (refused connection, ioredis giving up
 * after its retries) as NotificationsUnavailableError, which the exception filter answers 503 with
 * `Retry-After`, instead of a 500 and a stack in the log.
 */
@Injectable()
export class RedisUnavailableInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next
      .handle()
      .pipe(
        catchError((error: unknown) =>
          throwError(() =>
            isTransientRedisError(error) ? new NotificationsUnavailableError() : error,
          ),
        ),
      );
  }
}
