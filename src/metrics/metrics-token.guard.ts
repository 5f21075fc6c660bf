import {
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';

/** The injection token of METRICS_TOKEN (undefined: metrics are public). */
export const METRICS_TOKEN = Symbol('METRICS_TOKEN');

const digest = (value: string) => createHash('sha256').update(value).digest();

/** With METRICS_TOKEN set, a scrape must present `Authorization: Bearer <METRICS_TOKEN>`. */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly token: Buffer | undefined;

  constructor(@Inject(METRICS_TOKEN) token: string | undefined) {
    this.token = token === undefined ? undefined : digest(token);
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.token) return true;
    const { authorization } = context
      .switchToHttp()
      .getRequest<{ headers: Record<string, unknown> }>().headers;
    const [scheme, presented] = typeof authorization === 'string' ? authorization.split(' ') : [];
    if (
      scheme?.toLowerCase() !== 'bearer' ||
      !presented ||
      !timingSafeEqual(this.token, digest(presented))
    ) {
      throw new UnauthorizedException('metrics need Authorization: Bearer <METRICS_TOKEN>');
    }
    return true;
  }
}
