import { ExpirySweeper } from './expiry.sweeper.js';
import type { NotificationStore } from '../storage/notification.store.js';
import type { NotificationsMetrics } from '../notifications.metrics.js';
import { NotificationsSettings } from '../notifications.settings.js';

describe(ExpirySweeper.name, () => {
  const settings = new NotificationsSettings({ jwt: { secret: 's' }, expirySweepIntervalMs: 0 });
  const inc = vi.fn();
  const metrics = { expired: { inc } } as unknown as NotificationsMetrics;

  it('sweeps batch after batch while users are due, and counts what it removed', async () => {
    const sweepExpired = vi
      .fn()
      .mockResolvedValueOnce({ removed: 3, more: true })
      .mockResolvedValueOnce({ removed: 2, more: false });
    const sut = new ExpirySweeper(
      { sweepExpired } as unknown as NotificationStore,
      settings,
      metrics,
    );

    expect(await sut.sweep()).toBe(5);
    expect(sweepExpired).toHaveBeenCalledTimes(2);
    expect(inc).toHaveBeenCalledWith(5);
  });

  it('stops after 20 batches, leaving the rest to the next sweep', async () => {
    const sweepExpired = vi.fn().mockResolvedValue({ removed: 1, more: true });
    const sut = new ExpirySweeper(
      { sweepExpired } as unknown as NotificationStore,
      settings,
      metrics,
    );

    expect(await sut.sweep()).toBe(20);
  });

  it('does not start a timer when the interval is 0', () => {
    const sweepExpired = vi.fn();
    const sut = new ExpirySweeper(
      { sweepExpired } as unknown as NotificationStore,
      settings,
      metrics,
    );
    const setInterval = vi.spyOn(globalThis, 'setInterval');

    sut.onApplicationBootstrap();

    expect(setInterval).not.toHaveBeenCalled();
    setInterval.mockRestore();
  });
});
