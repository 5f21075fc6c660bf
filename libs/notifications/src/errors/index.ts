export * from './invalid-notification.error.js';
export * from './invalid-token.error.js';
export * from './notifications-unavailable.error.js';
export * from './idempotency-key-reused.error.js';
export * from './invalid-preferences.error.js';
