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

/** With METRICS_TOKEN set, a scrape must present `Authorization: Bearer <METRICS_TOKEN>`. */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly token: Buffer | undefined;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.token = config.metricsToken === undefined ? undefined : digest(config.metricsToken);
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.token) return true;
    const presented = bearerCredential(context.switchToHttp().getRequest<Request>());
    if (!presented || !timingSafeEqual(this.token, digest(presented))) {
      throw new UnauthorizedException('metrics need Authorization: Bearer <METRICS_TOKEN>');
    }
    return true;
  }
}
