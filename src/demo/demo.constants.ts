import type { JwtVerificationOptions } from '@app/notifications';

export const DEMO_OPTIONS = Symbol('DEMO_OPTIONS');

export interface DemoOptions {
  /**
   * Serve `POST /dev/token` and `POST /dev/notify`: never in production, and only with a shared
   * secret (with a public key the service cannot sign tokens).
   */
  devEndpoints: boolean;
  /** How user tokens are verified: dev tokens are signed to match. */
  jwt: JwtVerificationOptions;
}

/** Lifetime of a token from `POST /dev/token`. */
export const DEV_TOKEN_TTL_SECONDS = 3600;

/** The type of the notification the demo page's test button sends. */
export const DEMO_NOTIFICATION_TYPE = 'demo.test';

/** Categories the demo page's test button offers. */
export const DEMO_CATEGORIES = ['social', 'billing', 'system'] as const;
