import { Catch, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { throwError, type Observable } from 'rxjs';
import { IdempotencyKeyReusedError } from '../errors/idempotency-key-reused.error.js';
import { InvalidNotificationError } from '../errors/invalid-notification.error.js';
import { InvalidPreferencesError } from '../errors/invalid-preferences.error.js';
import { NotificationsUnavailableError } from '../errors/notifications-unavailable.error.js';

/**
 * The library's errors as HTTP answers, on any route: `InvalidNotificationError` is a 400 naming the
 * fields (`{statusCode, error, message, fields}`), `InvalidPreferencesError` a 400, `IdempotencyKeyReusedError` a 422,
 * `NotificationsUnavailableError` a 503 with `Retry-After: 1`. The module registers it globally with its `http` option; without it, register it
 * yourself: `app.useGlobalFilters(new NotificationsExceptionFilter(app.get(HttpAdapterHost)))`.
 * Works with Express and Fastify.
 */
@Catch(
  InvalidNotificationError,
  InvalidPreferencesError,
  IdempotencyKeyReusedError,
  NotificationsUnavailableError,
)
export class NotificationsExceptionFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(
    error:
      | InvalidNotificationError
      | InvalidPreferencesError
      | IdempotencyKeyReusedError
      | NotificationsUnavailableError,
    host: ArgumentsHost,
  ): void | Observable<never> {
    // Other transports (microservices, say) keep their own error handling.
    if (host.getType() !== 'http') return throwError(() => error);
    const { httpAdapter } = this.adapterHost;
    const response: unknown = host.switchToHttp().getResponse();
    if (error instanceof InvalidNotificationError) {
      const body = {
        statusCode: HttpStatus.BAD_REQUEST,
        error: 'Bad Request',
        message: error.errors.flatMap((e) => e.messages),
        fields: error.fields,
      };
      httpAdapter.reply(response, body, HttpStatus.BAD_REQUEST);
      return;
    }
    if (error instanceof InvalidPreferencesError) {
      const body = {
        statusCode: HttpStatus.BAD_REQUEST,
        error: 'Bad Request',
        message: error.problems,
      };
      httpAdapter.reply(response, body, HttpStatus.BAD_REQUEST);
      return;
    }
    if (error instanceof IdempotencyKeyReusedError) {
      const body = {
        statusCode: HttpStatus.UNPROCESSABLE_ENTITY,
        error: 'Unprocessable Entity',
        message: error.message,
      };
      httpAdapter.reply(response, body, HttpStatus.UNPROCESSABLE_ENTITY);
      return;
    }
    httpAdapter.setHeader(response, 'Retry-After', '1');
    const body = {
      statusCode: HttpStatus.SERVICE_UNAVAILABLE,
      error: 'Service Unavailable',
      message: error.message,
    };
    httpAdapter.reply(response, body, HttpStatus.SERVICE_UNAVAILABLE);
  }
}
