import { Injectable } from '@nestjs/common';
import { NotificationsUnavailableError } from '../errors/notifications-unavailable.error.js';
import { NotificationsSettings } from '../notifications.settings.js';
import { NotificationsRedis } from '../storage/notifications-redis.js';
import { PresenceStore } from '../storage/presence.store.js';
import { isTransientRedisError } from '../utils/transient-error.util.js';
import { isWellFormedId } from '../utils/well-formed-id.util.js';
import { withTimeout } from '../utils/with-timeout.util.js';

/**
 * Who has a socket open, on any gateway of the deployment. Each gateway keeps its users' entries
 * fresh on its heartbeat and removes them when their last socket there closes; the entries of a
 * gateway that dies without a goodbye lapse by themselves within one ping interval
 * (`limits.pingIntervalMs`). Works on any instance (gateway, worker or producer).
 */
@Injectable()
export class PresenceService {
  constructor(
    private readonly store: PresenceStore,
    private readonly redis: NotificationsRedis,
    private readonly settings: NotificationsSettings,
  ) {}

  /**
   * Whether the user has a socket open on some gateway.
   * @throws NotificationsUnavailableError while Redis is unreachable
   */
  async isOnline(userId: string): Promise<boolean> {
    return (await this.online([userId]))[userId] ?? false;
  }

  /**
   * Whether each user has a socket open on some gateway, in one round trip (per Redis node):
   * `{ [userId]: boolean }`. An id no token could carry (not well-formed) is simply offline.
   * @throws NotificationsUnavailableError while Redis is unreachable, or when it takes longer than
   * `enqueueTimeoutMs` to answer
   */
  async online(userIds: readonly string[]): Promise<Record<string, boolean>> {
    const asked = [...new Set(userIds)].filter(isWellFormedId);
    const online = asked.length > 0 ? await this.ask(asked) : [];
    const live = new Set(asked.filter((_, i) => online[i]));
    return Object.fromEntries(userIds.map((userId) => [userId, live.has(userId)]));
  }

  private async ask(userIds: string[]): Promise<boolean[]> {
    const timeoutMs = this.settings.enqueueTimeoutMs;
    await this.redis.whenAvailable(timeoutMs);
    try {
      return await withTimeout(
        this.store.online(userIds, Date.now()),
        timeoutMs,
        () => new NotificationsUnavailableError(),
      );
    } catch (error) {
      if (isTransientRedisError(error)) throw new NotificationsUnavailableError();
      throw error;
    }
  }
}
