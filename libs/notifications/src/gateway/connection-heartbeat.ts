import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { CloseCode } from '@rtnotify/protocol';
import { NotificationsSettings } from '../notifications.settings.js';
import { SlicedWalk } from '../utils/sliced-walk.util.js';
import type { ClientConnection } from './client-connection.js';
import { ConnectionRegistry } from './connection.registry.js';
import { GatewayPresence } from './gateway-presence.js';
import { HandshakeHolds } from './handshake-holds.js';

/**
 * Keeps the gateway's sockets honest: closes a socket whose token expired (4401, after the grace),
 * cuts one that did not answer a ping within `pingTimeoutMs`, and pings each one every
 * `pingIntervalMs`. It ticks often and pings only the sockets that are due, so that pings (and the
 * expiry checks) are spread over the interval instead of arriving as one burst. A tick looks at a
 * slice of the sockets (a tenth of them, at least 500: see SlicedWalk), so each socket is looked at
 * every ten ticks (0.5-1 s): a ping, a cut or a close for an expired token is up to that late. Each
 * tick also has `GatewayPresence` refresh the presence entries that are due (one batch), and lets
 * go of the handshakes held too long (see HandshakeHolds).
 */
@Injectable()
export class ConnectionHeartbeat implements OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private readonly walk = new SlicedWalk(
    () => this.registry.all(),
    () => this.registry.connectionCount,
  );

  constructor(
    private readonly registry: ConnectionRegistry<ClientConnection>,
    private readonly settings: NotificationsSettings,
    private readonly presence: GatewayPresence,
    private readonly holds: HandshakeHolds,
  ) {}

  /** How often it ticks: a twentieth of the ping interval, between 50 and 100 ms. */
  get tickMs(): number {
    return Math.min(100, Math.max(50, Math.floor(this.settings.limits.pingIntervalMs / 20)));
  }

  start(): void {
    this.stop();
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  onModuleDestroy(): void {
    this.stop();
  }

  /**
   * Starts watching an authenticated socket: its token expires at `tokenExpiresAt` (epoch ms; the
   * grace is added here) and its first ping falls at a random point of the interval.
   */
  watch(connection: ClientConnection, tokenExpiresAt: number, now = Date.now()): void {
    const { pingIntervalMs, tokenExpiryGraceMs } = this.settings.limits;
    connection.expiresAt = tokenExpiresAt + tokenExpiryGraceMs;
    connection.nextPingAt = now + Math.random() * pingIntervalMs;
  }

  /** One tick over the next slice of the registered sockets. */
  tick(now = Date.now()): void {
    const { pingIntervalMs, pingTimeoutMs } = this.settings.limits;
    this.walk.step((connection) => {
      if (now >= connection.expiresAt) {
        connection.close(CloseCode.Unauthorized, 'token expired: reconnect with a fresh token');
      } else if (connection.pingSentAt > 0 && now - connection.pingSentAt >= pingTimeoutMs) {
        connection.socket.terminate();
      } else if (connection.pingSentAt === 0 && now >= connection.nextPingAt) {
        connection.pingSentAt = now;
        connection.nextPingAt = now + pingIntervalMs;
        connection.socket.ping();
      }
    });
    this.presence.refreshDue(now);
    this.holds.releaseOverdue(now);
  }
}
