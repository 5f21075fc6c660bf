import { InvalidNotificationError, NotificationsUnavailableError } from '@app/notifications';
import { Catch, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';

/** The library's errors as HTTP answers: 400 naming the fields, 503 while Redis is unreachable. */
@Catch(InvalidNotificationError, NotificationsUnavailableError)
export class NotificationsExceptionFilter implements ExceptionFilter {
  catch(
    error: InvalidNotificationError | NotificationsUnavailableError,
    host: ArgumentsHost,
  ): void {
    const response = host.switchToHttp().getResponse<Response>();
    if (error instanceof InvalidNotificationError) {
      response.status(HttpStatus.BAD_REQUEST).json({
        statusCode: HttpStatus.BAD_REQUEST,
        error: 'Bad Request',
        message: error.errors.flatMap((e) => e.messages),
        fields: error.fields,
      });
      return;
    }
    response.status(HttpStatus.SERVICE_UNAVAILABLE).set('Retry-After', '1').json({
      statusCode: HttpStatus.SERVICE_UNAVAILABLE,
      error: 'Service Unavailable',
      message: error.message,
    });
  }
}
