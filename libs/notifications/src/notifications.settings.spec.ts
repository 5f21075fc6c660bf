import { DEFAULT_LIMITS } from '@rtnotify/protocol';
import { DEFAULT_JOB_OPTIONS, NOTIFICATIONS_DEFAULTS } from './notifications.defaults.js';
import { NotificationsSettings } from './notifications.settings.js';

describe(NotificationsSettings.name, () => {
  it('applies every default to empty options', () => {
    const sut = new NotificationsSettings({});

    expect(sut).toMatchObject({
      jwt: undefined,
      apiKeys: [],
      allowedOrigins: [],
      keyPrefix: NOTIFICATIONS_DEFAULTS.keyPrefix,
      historyLimit: NOTIFICATIONS_DEFAULTS.historyLimit,
      historyMaxAgeSeconds: NOTIFICATIONS_DEFAULTS.historyMaxAgeSeconds,
      workerConcurrency: NOTIFICATIONS_DEFAULTS.workerConcurrency,
      enqueueTimeoutMs: NOTIFICATIONS_DEFAULTS.enqueueTimeoutMs,
      expirySweepIntervalMs: NOTIFICATIONS_DEFAULTS.expirySweepIntervalMs,
      limits: DEFAULT_LIMITS,
      jobOptions: DEFAULT_JOB_OPTIONS,
    });
  });

  it('gives options set to undefined their defaults, also inside limits and jobOptions', () => {
    const sut = new NotificationsSettings({
      keyPrefix: undefined,
      historyLimit: undefined,
      workerConcurrency: undefined,
      expirySweepIntervalMs: undefined,
      limits: { maxFrameBytes: undefined, maxSocketsPerUser: 3 },
      jobOptions: { attempts: undefined, priority: 2 },
    });

    expect(sut.keyPrefix).toBe('notif');
    expect(sut.historyLimit).toBe(1000);
    expect(sut.workerConcurrency).toBe(32);
    expect(sut.expirySweepIntervalMs).toBe(1000);
    expect(sut.limits).toEqual({ ...DEFAULT_LIMITS, maxSocketsPerUser: 3 });
    expect(sut.jobOptions).toEqual({ ...DEFAULT_JOB_OPTIONS, priority: 2 });
  });

  it('keeps what is given, 0 and empty lists included', () => {
    const sut = new NotificationsSettings({
      apiKeys: [],
      allowedOrigins: '*',
      historyMaxAgeSeconds: 0,
      expirySweepIntervalMs: 0,
      limits: { tokenExpiryGraceMs: 0 },
    });

    expect(sut.allowedOrigins).toBe('*');
    expect(sut.limits.tokenExpiryGraceMs).toBe(0);
    expect(sut.expirySweepIntervalMs).toBe(0);
  });

  it('needs a JWT key for the gateway and the inbox, not for a worker', () => {
    expect(() => new NotificationsSettings({}, { gateway: true, inbox: false })).toThrow(
      /jwt.secret or jwt.publicKey is required/,
    );
    expect(() => new NotificationsSettings({}, { gateway: false, inbox: true })).toThrow();
    expect(new NotificationsSettings({}, { gateway: false, inbox: false }).jwt).toBeUndefined();
    expect(
      new NotificationsSettings({ jwt: { secret: 's' } }, { gateway: true, inbox: true }).jwt,
    ).toEqual({ secret: 's' });
  });

  describe('fallback', () => {
    it('is off unless given, and takes its defaults', () => {
      expect(new NotificationsSettings({}).fallback).toBeUndefined();
      expect(new NotificationsSettings({ fallback: { queue: 'emails' } }).fallback).toEqual({
        queue: 'emails',
        afterSeconds: 0,
        whenOffline: false,
      });
      expect(
        new NotificationsSettings({
          fallback: { queue: 'emails', afterSeconds: undefined, whenOffline: true },
        }).fallback,
      ).toEqual({ queue: 'emails', afterSeconds: 0, whenOffline: true });
    });

    it.each([
      ['an empty queue', { queue: '' }, /fallback.queue/],
      ['a queue with a colon', { queue: 'a:b' }, /fallback.queue/],
      ['a negative delay', { queue: 'q', afterSeconds: -1 }, /fallback.afterSeconds/],
      ['a fractional delay', { queue: 'q', afterSeconds: 1.5 }, /fallback.afterSeconds/],
      ['a delay over 30 days', { queue: 'q', afterSeconds: 2_592_001 }, /fallback.afterSeconds/],
    ])('refuses %s at start', (_, fallback, message) => {
      expect(() => new NotificationsSettings({ fallback })).toThrow(message);
    });

    it('refuses the notify queue itself (its worker would fail every fallback job)', () => {
      const roles = { gateway: false, inbox: false };
      expect(() => new NotificationsSettings({ fallback: { queue: 'notifications' } })).toThrow(
        /fallback.queue must not be the notify queue "notifications"/,
      );
      expect(
        () =>
          new NotificationsSettings(
            { fallback: { queue: 'jobs' } },
            { ...roles, queueName: 'jobs' },
          ),
      ).toThrow(/notify queue "jobs"/);
      expect(
        new NotificationsSettings(
          { fallback: { queue: 'notifications' } },
          { ...roles, queueName: 'jobs' },
        ).fallback?.queue,
      ).toBe('notifications');
    });
  });
});
