import { Inject, Injectable } from '@nestjs/common';
import { SignJWT } from 'jose';
import { DEMO_OPTIONS, DEV_TOKEN_TTL_SECONDS, type DemoOptions } from './demo.constants.js';

/** Signs short-lived user tokens with the service's own secret: development only. */
@Injectable()
export class DevTokenIssuer {
  private readonly key: Uint8Array;
  private readonly algorithm: string;

  constructor(@Inject(DEMO_OPTIONS) private readonly options: DemoOptions) {
    this.key = new TextEncoder().encode(options.jwt.secret ?? '');
    this.algorithm = options.jwt.algorithms?.[0] ?? 'HS256';
  }

  async issue(userId: string): Promise<{ token: string; expiresIn: number }> {
    let jwt = new SignJWT({})
      .setProtectedHeader({ alg: this.algorithm, typ: 'JWT' })
      .setSubject(userId)
      .setIssuedAt()
      .setExpirationTime(`${DEV_TOKEN_TTL_SECONDS}s`);
    if (this.options.jwt.issuer) jwt = jwt.setIssuer(this.options.jwt.issuer);
    if (this.options.jwt.audience) jwt = jwt.setAudience(this.options.jwt.audience);
    return { token: await jwt.sign(this.key), expiresIn: DEV_TOKEN_TTL_SECONDS };
  }
}
