import {
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { APP_CONFIG } from '../app.constants.js';
import { bearerCredential } from '../auth/bearer.js';
import type { AppConfig } from '../config/app-config.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Producers authenticate with `Authorization: Bearer <one of API_KEYS>`. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly keys: Buffer[];

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.keys = config.apiKeys.map(digest);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    const key = bearerCredential(request);
    if (!key) throw new UnauthorizedException('missing API key (Authorization: Bearer <key>)');
    const candidate = digest(key);
    // Compare against every key, in constant time per key.
    const known = this.keys.reduce((found, k) => timingSafeEqual(k, candidate) || found, false);
    if (!known) throw new UnauthorizedException('unknown API key');
    return true;
  }
}
