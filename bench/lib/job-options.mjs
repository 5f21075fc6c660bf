/** ours' DEFAULT_JOB_OPTIONS (libs/notifications/src/notifications.settings.ts), for every system. */
export const JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};
