/** Prefix of every Redis key the store writes, unless configured otherwise. */
export const DEFAULT_KEY_PREFIX = 'notif';

export const NOTIFICATIONS_QUEUE_NAME = Symbol('NOTIFICATIONS_QUEUE_NAME');
export const NOTIFICATIONS_QUEUE = Symbol('NOTIFICATIONS_QUEUE');
/**
 * Optional: a prom-client `Registry` for the library's metrics (default: a registry of its own).
 * Provide it from a global module of the host.
 */
export const NOTIFICATIONS_METRICS_REGISTRY = Symbol('NOTIFICATIONS_METRICS_REGISTRY');
