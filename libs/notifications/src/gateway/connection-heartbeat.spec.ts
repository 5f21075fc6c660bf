import { CloseCode } from '@rtnotify/protocol';
import { NotificationsSettings } from '../notifications.settings.js';
import type { ClientConnection } from './client-connection.js';
import { ConnectionHeartbeat } from './connection-heartbeat.js';
import { ConnectionRegistry } from './connection.registry.js';
import type { GatewayPresence } from './gateway-presence.js';
import type { HandshakeHolds } from './handshake-holds.js';

const LIMITS = { pingIntervalMs: 1000, pingTimeoutMs: 300, tokenExpiryGraceMs: 50 };

interface Fake {
  connection: ClientConnection;
  ping: ReturnType<typeof vi.fn>;
  terminate: ReturnType<typeof vi.fn>;
  close: ReturnType<typeof vi.fn>;
}

/** A connection of the fields the heartbeat reads, with its socket and close as mocks. */
function fakeConnection(userId: string): Fake {
  const ping = vi.fn();
  const terminate = vi.fn();
  const close = vi.fn();
  const connection = {
    userId,
    pingSentAt: 0,
    nextPingAt: Number.POSITIVE_INFINITY,
    expiresAt: Number.POSITIVE_INFINITY,
    close,
    socket: { ping, terminate },
  } as unknown as ClientConnection;
  return { connection, ping, terminate, close };
}

describe(ConnectionHeartbeat.name, () => {
  let registry: ConnectionRegistry<ClientConnection>;
  let sut: ConnectionHeartbeat;
  let fake: Fake;
  let connection: ClientConnection;
  let refreshDue: ReturnType<typeof vi.fn>;
  let presence: GatewayPresence;
  let releaseOverdue: ReturnType<typeof vi.fn>;
  let holds: HandshakeHolds;

  beforeEach(() => {
    refreshDue = vi.fn();
    presence = { refreshDue } as unknown as GatewayPresence;
    releaseOverdue = vi.fn();
    holds = { releaseOverdue } as unknown as HandshakeHolds;
    registry = new ConnectionRegistry<ClientConnection>();
    sut = new ConnectionHeartbeat(
      registry,
      new NotificationsSettings({ limits: LIMITS }),
      presence,
      holds,
    );
    fake = fakeConnection('ada');
    connection = fake.connection;
    registry.add(connection);
  });

  afterEach(() => {
    sut.stop();
    vi.useRealTimers();
  });

  describe('watch', () => {
    it('adds the grace to the token expiry and puts the first ping within the interval', () => {
      sut.watch(connection, 10_000, 5000);

      expect(connection.expiresAt).toBe(10_050);
      expect(connection.nextPingAt).toBeGreaterThanOrEqual(5000);
      expect(connection.nextPingAt).toBeLessThan(6000);
    });
  });

  describe('tick', () => {
    beforeEach(() => {
      connection.expiresAt = 100_000;
      connection.nextPingAt = 1000;
    });

    it('does nothing before the ping is due', () => {
      sut.tick(999);

      expect(fake.ping).not.toHaveBeenCalled();
      expect(fake.close).not.toHaveBeenCalled();
    });

    it('pings a socket that is due and schedules the next ping one interval later', () => {
      sut.tick(1000);

      expect(fake.ping).toHaveBeenCalledOnce();
      expect(connection.pingSentAt).toBe(1000);
      expect(connection.nextPingAt).toBe(2000);
    });

    it('has the presence entries that are due refreshed, and the overdue handshakes let go, on every tick', () => {
      sut.tick(999);
      sut.tick(1000);

      expect(refreshDue.mock.calls).toEqual([[999], [1000]]);
      expect(releaseOverdue.mock.calls).toEqual([[999], [1000]]);
    });

    it('does not ping again while a ping is unanswered', () => {
      sut.tick(1000);
      sut.tick(2100);

      expect(fake.ping).toHaveBeenCalledOnce();
    });

    it('cuts a socket that did not answer within pingTimeoutMs', () => {
      sut.tick(1000);
      sut.tick(1299);
      expect(fake.terminate).not.toHaveBeenCalled();

      sut.tick(1300);

      expect(fake.terminate).toHaveBeenCalledOnce();
    });

    it('pings again once the socket answered', () => {
      sut.tick(1000);
      connection.pingSentAt = 0; // what ClientConnection.answered() does

      sut.tick(2000);

      expect(fake.ping).toHaveBeenCalledTimes(2);
      expect(fake.terminate).not.toHaveBeenCalled();
    });

    it('closes a socket whose token expired with 4401, before anything else', () => {
      sut.tick(100_000);

      expect(fake.close).toHaveBeenCalledWith(
        CloseCode.Unauthorized,
        'token expired: reconnect with a fresh token',
      );
      expect(fake.ping).not.toHaveBeenCalled();
    });

    it('goes over every registered socket, and only those', () => {
      const other = fakeConnection('bob');
      other.connection.nextPingAt = 1000;
      other.connection.expiresAt = 100_000;
      registry.add(other.connection);
      const unregistered = fakeConnection('eve');
      unregistered.connection.nextPingAt = 0;

      sut.tick(1000);

      expect(fake.ping).toHaveBeenCalledOnce();
      expect(other.ping).toHaveBeenCalledOnce();
      expect(unregistered.ping).not.toHaveBeenCalled();
    });

    it('on a large gateway looks at a tenth of the sockets per tick: each one within ten ticks', () => {
      const many = Array.from({ length: 9_999 }, (_, i) => fakeConnection(`user-${i}`));
      for (const other of many) {
        other.connection.nextPingAt = 1000;
        registry.add(other.connection);
      }
      const pinged = () => [fake, ...many].filter((other) => other.ping.mock.calls.length > 0);

      sut.tick(1000);
      expect(pinged()).toHaveLength(1000);
      for (let tick = 1; tick < 10; tick++) sut.tick(1000 + tick * 50);

      expect(pinged()).toHaveLength(10_000);
      expect([fake, ...many].every((other) => other.ping.mock.calls.length === 1)).toBe(true);
    });
  });

  describe('start and stop', () => {
    it('ticks every twentieth of the ping interval, within 50 and 100 ms', () => {
      const tickMs = (pingIntervalMs: number) =>
        new ConnectionHeartbeat(
          registry,
          new NotificationsSettings({ limits: { pingIntervalMs } }),
          presence,
          holds,
        ).tickMs;

      expect(tickMs(1000)).toBe(50);
      expect(tickMs(500)).toBe(50);
      expect(tickMs(1500)).toBe(75);
      expect(tickMs(10_000)).toBe(100);
      expect(tickMs(25_000)).toBe(100);
    });

    it('ticks on its timer once started, and no more once stopped', () => {
      vi.useFakeTimers({ now: 0 });
      const tick = vi.spyOn(sut, 'tick');

      sut.start();
      vi.advanceTimersByTime(sut.tickMs * 3);
      expect(tick).toHaveBeenCalledTimes(3);

      sut.stop();
      vi.advanceTimersByTime(sut.tickMs * 3);
      expect(tick).toHaveBeenCalledTimes(3);
    });
  });
});
