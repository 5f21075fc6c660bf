import {
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { NotificationsSettings } from '../notifications.settings.js';
import { bearerCredential, type RequestWithHeaders } from './bearer.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Producers authenticate with `Authorization: Bearer <one of apiKeys>` (module option); 401
 * otherwise, and always when no key is configured. Works with Express and Fastify.
 */
@Injectable()
export class NotificationsApiKeyGuard implements CanActivate {
  private readonly keys: Buffer[];

  constructor(settings: NotificationsSettings) {
    this.keys = settings.apiKeys.map(digest);
  }

  canActivate(context: ExecutionContext): boolean {
    const key = bearerCredential(context.switchToHttp().getRequest<RequestWithHeaders>());
    if (!key) throw new UnauthorizedException('missing API key (Authorization: Bearer <key>)');
    const candidate = digest(key);
    // Compare against every key, in constant time per key.
    const known = this.keys.reduce((found, k) => timingSafeEqual(k, candidate) || found, false);
    if (!known) throw new UnauthorizedException('unknown API key');
    return true;
  }
}
