import {
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { InvalidTokenError } from '../errors/invalid-token.error.js';
import { TokenVerifier } from '../token.verifier.js';
import { bearerCredential, type RequestWithHeaders } from './bearer.js';
import { setRequestUserId } from './current-user.decorator.js';

/**
 * Authenticates a user's HTTP request by the same JWT as the socket, sent as
 * `Authorization: Bearer <jwt>`; 401 otherwise. `@NotificationsUserId()` gives the user id. Works
 * with Express and Fastify.
 */
@Injectable()
export class NotificationsUserGuard implements CanActivate {
  constructor(private readonly verifier: TokenVerifier) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<RequestWithHeaders>();
    const token = bearerCredential(request);
    if (!token) throw new UnauthorizedException('missing bearer token');
    try {
      setRequestUserId(request, (await this.verifier.verify(token)).userId);
      return true;
    } catch (error) {
      throw new UnauthorizedException(
        error instanceof InvalidTokenError ? error.reason : 'token invalid',
      );
    }
  }
}
