import { InvalidTokenError, TokenVerifier } from '@app/notifications';
import {
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Request } from 'express';
import { bearerCredential } from './bearer.js';

export interface AuthenticatedRequest extends Request {
  userId: string;
}

/** Authenticates a user's HTTP request by the same JWT as the WebSocket, as `Bearer <jwt>`. */
@Injectable()
export class UserAuthGuard implements CanActivate {
  constructor(private readonly verifier: TokenVerifier) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = bearerCredential(request);
    if (!token) throw new UnauthorizedException('missing bearer token');
    try {
      request.userId = (await this.verifier.verify(token)).userId;
      return true;
    } catch (error) {
      throw new UnauthorizedException(
        error instanceof InvalidTokenError ? error.reason : 'token invalid',
      );
    }
  }
}
