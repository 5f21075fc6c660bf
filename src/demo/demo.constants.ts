export const DEMO_OPTIONS = Symbol('DEMO_OPTIONS');

export interface DemoOptions {
  /**
   * Serve `POST /dev/token` and `POST /dev/notify`: never in production, only with a shared secret
   * (with a public key the service cannot sign tokens), and only with the built-in development
   * secret unless the operator opted in (DEV_TOKENS=1).
   */
  devEndpoints: boolean;
  /** Tokens are verified with the operator's own key, not the built-in development secret. */
  operatorKey: boolean;
}

/** Lifetime of a token from `POST /dev/token`. */
export const DEV_TOKEN_TTL_SECONDS = 3600;

/** The type of the notification the demo page's test button sends. */
export const DEMO_NOTIFICATION_TYPE = 'demo.test';

/** Categories the demo page's test button offers. */
export const DEMO_CATEGORIES = ['social', 'billing', 'system'] as const;
