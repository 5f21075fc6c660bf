import { NotificationsUnavailableError } from '../errors/notifications-unavailable.error.js';
import { NotificationsSettings } from '../notifications.settings.js';
import type { NotificationsRedis } from '../storage/notifications-redis.js';
import type { PresenceStore } from '../storage/presence.store.js';
import { PresenceService } from './presence.service.js';

describe(PresenceService.name, () => {
  let online: ReturnType<typeof vi.fn>;
  let whenAvailable: ReturnType<typeof vi.fn>;
  let sut: PresenceService;

  beforeEach(() => {
    online = vi.fn(async (userIds: string[]) => userIds.map((id) => id.startsWith('on')));
    whenAvailable = vi.fn(async () => undefined);
    sut = new PresenceService(
      { online } as unknown as PresenceStore,
      { whenAvailable } as unknown as NotificationsRedis,
      new NotificationsSettings({ enqueueTimeoutMs: 200 }),
    );
  });

  it('answers each user, asking the store once for the distinct ids', async () => {
    expect(await sut.online(['on-1', 'off-1', 'on-1', '__proto__'])).toEqual({
      'on-1': true,
      'off-1': false,
      ['__proto__']: false,
    });
    expect(online).toHaveBeenCalledOnce();
    expect(online.mock.calls[0][0]).toEqual(['on-1', 'off-1', '__proto__']);
    expect(await sut.isOnline('on-2')).toBe(true);
    expect(await sut.isOnline('off-2')).toBe(false);
  });

  it('answers an id no token could carry as offline without asking Redis', async () => {
    expect(await sut.online(['on\ud800', 'on\ufffd'])).toEqual({
      'on\ud800': false,
      'on\ufffd': false,
    });
    expect(await sut.online([])).toEqual({});
    expect(online).not.toHaveBeenCalled();
  });

  it('throws NotificationsUnavailableError while Redis is unreachable', async () => {
    whenAvailable.mockRejectedValueOnce(new NotificationsUnavailableError());
    await expect(sut.isOnline('on-1')).rejects.toBeInstanceOf(NotificationsUnavailableError);

    online.mockRejectedValueOnce(new Error('Connection is closed.'));
    await expect(sut.isOnline('on-1')).rejects.toBeInstanceOf(NotificationsUnavailableError);

    online.mockReturnValueOnce(new Promise(() => undefined));
    await expect(sut.isOnline('on-1')).rejects.toBeInstanceOf(NotificationsUnavailableError);
  });

  it('lets any other error through', async () => {
    online.mockRejectedValueOnce(new Error('ERR unknown command'));

    await expect(sut.isOnline('on-1')).rejects.toThrow('ERR unknown command');
  });
});
