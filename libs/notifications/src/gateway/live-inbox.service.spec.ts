import { CloseCode, type NotificationCounts, type ServerFrame } from '@rtnotify/protocol';
import type { WebSocket } from 'ws';
import type { InboxService } from '../inbox/inbox.service.js';
import type { NotificationsMetrics } from '../notifications.metrics.js';
import { NotificationsSettings } from '../notifications.settings.js';
import type {
  ChannelListener,
  ChannelMessage,
  NotificationBroker,
} from '../storage/notification.broker.js';
import type { ReplayResult } from '../storage/notification.store.js';
import { serializedFrame } from '../storage/serialized-frame.js';
import { ClientConnection, WriteBatch } from './client-connection.js';
import { ConnectionRegistry } from './connection.registry.js';
import type { GatewayPresence } from './gateway-presence.js';
import { LiveInboxService } from './live-inbox.service.js';

const OPEN = 1;

const NO_COUNTS: NotificationCounts = { unread: 0, unseen: 0, categories: {} };

function notificationFrame(id: string, unread: number) {
  return serializedFrame<'notification'>(
    JSON.stringify({
      event: 'notification',
      data: {
        notification: {
          id,
          type: 't',
          payload: {},
          createdAt: '',
          read: false,
          seen: false,
          archived: false,
        },
        unread,
        counts: { unread, unseen: unread, categories: {} },
      },
    } satisfies ServerFrame<'notification'>),
  );
}

function message(version: number, id: string, epoch = 'e1'): ChannelMessage {
  return { userId: 'ada', epoch, version, id, enqueuedAt: 0, frame: notificationFrame(id, 1) };
}

/** A broker that hands messages to the listeners when told to. */
class FakeBroker {
  generation = 0;
  readonly acquire = vi.fn(async (_userId: string) => undefined);
  readonly release = vi.fn();
  readonly listeners: ChannelListener[] = [];
  readonly resubscribed: (() => void)[] = [];
  onMessage(listener: ChannelListener): void {
    this.listeners.push(listener);
  }
  onResubscribed(listener: () => void): void {
    this.resubscribed.push(listener);
  }
  publish(message: ChannelMessage): void {
    for (const listener of this.listeners) listener(message);
  }
}

/** A connection on a fake open socket, recording the frames sent and the close. */
function connectionOf(userId: string) {
  const sent: string[] = [];
  const socket = {
    readyState: OPEN,
    bufferedAmount: 0,
    send: (frame: string) => sent.push(frame),
    close: vi.fn(function (this: { readyState: number }) {
      this.readyState = 3;
    }),
  };
  const connection = new ClientConnection(socket as unknown as WebSocket, 1 << 20, {
    closedByServer: () => undefined,
    delivered: () => undefined,
  });
  connection.userId = userId;
  return {
    connection,
    socket,
    frames: () => sent.map((f) => JSON.parse(f) as ServerFrame),
    events: () => sent.map((f) => (JSON.parse(f) as ServerFrame).event),
  };
}

describe(LiveInboxService.name, () => {
  let broker: FakeBroker;
  let inbox: {
    replay: ReturnType<typeof vi.fn>;
    markRead: ReturnType<typeof vi.fn>;
    mark: ReturnType<typeof vi.fn>;
  };
  let registry: ConnectionRegistry<ClientConnection>;
  let presence: { joined: ReturnType<typeof vi.fn>; left: ReturnType<typeof vi.fn> };
  let sut: LiveInboxService;
  let streamBreaks: ReturnType<typeof vi.fn>;
  const replay = (overrides: Partial<ReplayResult> = {}): ReplayResult => ({
    frames: [],
    unread: 0,
    counts: NO_COUNTS,
    cursor: 'e1-0',
    head: { epoch: 'e1', version: 0 },
    truncated: false,
    ...overrides,
  });

  beforeEach(() => {
    broker = new FakeBroker();
    inbox = { replay: vi.fn(async () => replay()), markRead: vi.fn(), mark: vi.fn() };
    registry = new ConnectionRegistry<ClientConnection>();
    streamBreaks = vi.fn();
    const metrics = {
      pushLatency: { observe: vi.fn() },
      streamBreaks: { inc: streamBreaks },
    } as unknown as NotificationsMetrics;
    presence = { joined: vi.fn(), left: vi.fn() };
    sut = new LiveInboxService(
      inbox as unknown as InboxService,
      broker as unknown as NotificationBroker,
      registry,
      new NotificationsSettings({ limits: { maxSocketsPerUser: 2 } }),
      metrics,
      presence as unknown as GatewayPresence,
    );
  });

  it('registers up to maxSocketsPerUser sockets of a user', () => {
    expect(sut.register(connectionOf('ada').connection)).toBe(true);
    expect(sut.register(connectionOf('ada').connection)).toBe(true);
    expect(sut.register(connectionOf('ada').connection)).toBe(false);
    expect(sut.register(connectionOf('bob').connection)).toBe(true);
  });

  it('tells presence of each registered socket and of each one unregistered', () => {
    const ada = connectionOf('ada').connection;
    const refused = connectionOf('ada').connection;
    sut.register(ada);
    sut.register(connectionOf('ada').connection);
    sut.register(refused);
    expect(presence.joined.mock.calls).toEqual([['ada'], ['ada']]);

    sut.close(refused);
    sut.close(ada);

    expect(presence.left.mock.calls).toEqual([['ada']]);
  });

  it('subscribes, replays what was missed, then sends ready with the counts', async () => {
    const { connection, events, frames } = connectionOf('ada');
    const counts = { unread: 1, unseen: 0, categories: { social: { unread: 1, unseen: 0 } } };
    inbox.replay.mockResolvedValueOnce(
      replay({ frames: [notificationFrame('e1-1', 1)], unread: 1, counts, cursor: 'e1-1' }),
    );

    await sut.open(connection, 'e1-0');

    expect(broker.acquire).toHaveBeenCalledWith('ada');
    expect(inbox.replay).toHaveBeenCalledWith('ada', 'e1-0');
    expect(events()).toEqual(['notification', 'ready']);
    expect(frames()[1]).toEqual({
      event: 'ready',
      data: { userId: 'ada', unread: 1, replayed: 1, truncated: false, cursor: 'e1-1', counts },
    });
    expect(connection.isLive).toBe(true);
  });

  it('writes a replay, its ready and what came during it to the stream together: corked from the first frame to the last', async () => {
    const { connection, socket } = connectionOf('ada');
    sut.register(connection);
    const log: string[] = [];
    const send = socket.send;
    socket.send = (frame: string) => {
      log.push((JSON.parse(frame) as ServerFrame).event);
      return send(frame);
    };
    const stream = { cork: () => log.push('cork'), uncork: () => log.push('uncork') };
    let finish!: (result: ReplayResult) => void;
    inbox.replay.mockReturnValueOnce(new Promise<ReplayResult>((resolve) => (finish = resolve)));

    // Its handshake was let go already (a slow connect): the replay is held by itself.
    const opening = sut.open(connection, 'e1-0', new WriteBatch(stream));
    await vi.waitFor(() => expect(inbox.replay).toHaveBeenCalledTimes(1));
    broker.publish(message(3, 'e1-3'));
    const missed = [notificationFrame('e1-1', 1), notificationFrame('e1-2', 2)];
    finish(replay({ frames: missed, head: { epoch: 'e1', version: 2 } }));
    await opening;

    expect(log).toEqual([
      'cork',
      'notification',
      'notification',
      'ready',
      'notification',
      'uncork',
    ]);
    // Nothing to replay: ready alone is one write anyway.
    const fresh = connectionOf('ada').connection;
    sut.register(fresh);
    log.length = 0;
    await sut.open(fresh, undefined, new WriteBatch(stream));
    expect(log).toEqual([]);
    expect(fresh.isLive).toBe(true);
  });

  it('sends the first frames in the batch that holds the handshake, and ends it', async () => {
    const log: string[] = [];
    const stream = { cork: () => log.push('cork'), uncork: () => log.push('uncork') };
    for (const frames of [[], [notificationFrame('e1-1', 1)]]) {
      const { connection, socket } = connectionOf('ada');
      sut.register(connection);
      const send = socket.send;
      socket.send = (frame: string) => {
        log.push((JSON.parse(frame) as ServerFrame).event);
        return send(frame);
      };
      const batch = new WriteBatch(stream).hold();
      inbox.replay.mockResolvedValueOnce(replay({ frames, head: { epoch: 'e1', version: 1 } }));

      await sut.open(connection, 'e1-0', batch);

      expect(batch.isHolding).toBe(false);
    }
    // Held once each (by the handshake), not again for the replay.
    expect(log).toEqual(['cork', 'ready', 'uncork', 'cork', 'notification', 'ready', 'uncork']);
  });

  it('forwards the channel to every registered socket of the user, past the snapshot only', async () => {
    const first = connectionOf('ada');
    const second = connectionOf('ada');
    for (const { connection } of [first, second]) {
      sut.register(connection);
      await sut.open(connection, undefined);
    }

    broker.publish(message(1, 'e1-1'));
    broker.publish(message(1, 'e1-1'));

    expect(first.events()).toEqual(['ready', 'notification']);
    expect(second.events()).toEqual(['ready', 'notification']);
  });

  it('forwards the 1.1 frames of the channel (marked, removed) as they are', async () => {
    const { connection, events } = connectionOf('ada');
    sut.register(connection);
    await sut.open(connection, undefined);
    const marked = serializedFrame<'marked'>(
      JSON.stringify({
        event: 'marked',
        data: { as: 'seen', all: true, counts: NO_COUNTS },
      } satisfies ServerFrame<'marked'>),
    );
    const removed = serializedFrame<'removed'>(
      JSON.stringify({
        event: 'removed',
        data: { ids: ['e1-1'], reason: 'expired', counts: NO_COUNTS },
      } satisfies ServerFrame<'removed'>),
    );

    broker.publish({ userId: 'ada', epoch: 'e1', version: 1, enqueuedAt: 0, frame: marked });
    broker.publish({ userId: 'ada', epoch: 'e1', version: 2, enqueuedAt: 0, frame: removed });

    expect(events()).toEqual(['ready', 'marked', 'removed']);
  });

  it('makes a live socket resume when the history was reset under it', async () => {
    const { connection, socket } = connectionOf('ada');
    sut.register(connection);
    await sut.open(connection, undefined);

    broker.publish(message(1, 'e2-1', 'e2'));

    expect(socket.close).toHaveBeenCalledWith(
      CloseCode.InternalError,
      'history reset: resume with since',
    );
  });

  it('makes a live socket resume when a message of its channel never arrived (a version skipped)', async () => {
    const { connection, socket, events } = connectionOf('ada');
    sut.register(connection);
    await sut.open(connection, undefined);

    broker.publish(message(1, 'e1-1'));
    broker.publish(message(3, 'e1-3'));

    expect(events()).toEqual(['ready', 'notification']);
    expect(socket.close).toHaveBeenCalledWith(
      CloseCode.InternalError,
      'stream interrupted: resume with since',
    );
    expect(streamBreaks).toHaveBeenCalledTimes(1);
  });

  it('does not count a gap on a socket older than the channel connection, and makes it resume', async () => {
    const { connection, socket } = connectionOf('ada');
    sut.register(connection);
    await sut.open(connection, undefined);
    broker.generation = 1;

    broker.publish(message(3, 'e1-3'));

    expect(socket.close).toHaveBeenCalledWith(
      CloseCode.InternalError,
      'stream interrupted: resume with since',
    );
    expect(streamBreaks).not.toHaveBeenCalled();
  });

  it('does not count a gap on a socket already closing (its channel connection was lost)', async () => {
    const { connection, socket } = connectionOf('ada');
    sut.register(connection);
    await sut.open(connection, undefined);
    broker.generation = 1;
    for (const listener of broker.resubscribed) listener();

    broker.publish(message(3, 'e1-3'));

    expect(socket.close).toHaveBeenCalledTimes(1);
    expect(socket.close).toHaveBeenCalledWith(
      CloseCode.InternalError,
      'stream interrupted: resume with since',
    );
    expect(streamBreaks).not.toHaveBeenCalled();
  });

  it('checks what arrived during the replay against the snapshot: sent from the next version on, resumed past a gap', async () => {
    const held = () => {
      let finish!: (result: ReplayResult) => void;
      const promise = new Promise<ReplayResult>((resolve) => (finish = resolve));
      return { promise, finish };
    };
    const whole = connectionOf('ada');
    const gapped = connectionOf('ada');
    for (const { connection } of [whole, gapped]) sut.register(connection);

    const first = held();
    inbox.replay.mockReturnValueOnce(first.promise);
    const opening = sut.open(whole.connection, undefined);
    await vi.waitFor(() => expect(inbox.replay).toHaveBeenCalledTimes(1));
    broker.publish(message(1, 'e1-1'));
    broker.publish(message(2, 'e1-2'));
    first.finish(replay({ head: { epoch: 'e1', version: 1 } }));
    await opening;
    expect(whole.events()).toEqual(['ready', 'notification']);
    expect(whole.socket.close).not.toHaveBeenCalled();

    const second = held();
    inbox.replay.mockReturnValueOnce(second.promise);
    const reopening = sut.open(gapped.connection, undefined);
    await vi.waitFor(() => expect(inbox.replay).toHaveBeenCalledTimes(2));
    broker.publish(message(4, 'e1-4'));
    second.finish(replay({ head: { epoch: 'e1', version: 2 } }));
    await reopening;
    expect(gapped.events()).toEqual(['ready']);
    expect(gapped.socket.close).toHaveBeenCalledWith(
      CloseCode.InternalError,
      'stream interrupted: resume with since',
    );
  });

  it('closes the sockets older than a lost channel connection once it is back', async () => {
    const old = connectionOf('ada');
    sut.register(old.connection);
    await sut.open(old.connection, undefined);
    broker.generation = 1;
    const fresh = connectionOf('bob');
    sut.register(fresh.connection);
    await sut.open(fresh.connection, undefined);

    for (const listener of broker.resubscribed) listener();

    expect(old.socket.close).toHaveBeenCalledWith(
      CloseCode.InternalError,
      'stream interrupted: resume with since',
    );
    expect(fresh.socket.close).not.toHaveBeenCalled();
  });

  it('lets a socket still waiting for its channel when the connection was lost go live once it is back', async () => {
    let subscribed!: () => void;
    broker.acquire.mockReturnValueOnce(
      new Promise((resolve) => (subscribed = () => resolve(undefined))),
    );
    const early = connectionOf('ada');
    sut.register(early.connection);
    const opening = sut.open(early.connection, undefined);

    // Lost and back before the socket's subscription was answered: its snapshot comes after.
    broker.generation = 1;
    for (const listener of broker.resubscribed) listener();
    subscribed();
    await opening;
    expect(early.events()).toEqual(['ready']);
    expect(early.socket.close).not.toHaveBeenCalled();

    // Lost once its snapshot was taken: it may have missed what came meanwhile.
    broker.generation = 2;
    for (const listener of broker.resubscribed) listener();
    expect(early.socket.close).toHaveBeenCalledWith(
      CloseCode.InternalError,
      'stream interrupted: resume with since',
    );
  });

  it('makes a socket resume when the channel connection was lost while its snapshot was taken', async () => {
    let answer!: (result: ReplayResult) => void;
    inbox.replay.mockReturnValueOnce(new Promise((resolve) => (answer = resolve)));
    const { connection, socket, events } = connectionOf('ada');
    sut.register(connection);
    const opening = sut.open(connection, undefined);
    await vi.waitFor(() => expect(inbox.replay).toHaveBeenCalledOnce());

    broker.generation = 1;
    for (const listener of broker.resubscribed) listener();
    answer(replay());
    await opening;

    expect(events()).toEqual([]);
    expect(socket.close).toHaveBeenCalledWith(
      CloseCode.InternalError,
      'stream interrupted: resume with since',
    );
  });

  it('unregisters and releases the channel once, on close', async () => {
    const { connection } = connectionOf('ada');
    sut.register(connection);
    await sut.open(connection, undefined);

    sut.close(connection);
    sut.close(connection);

    expect(broker.release).toHaveBeenCalledOnce();
    expect([...sut.connections()]).toEqual([]);
  });

  it("marks read for the socket's user", async () => {
    inbox.markRead.mockResolvedValueOnce({ unread: 0, changed: true });

    await expect(sut.markRead(connectionOf('ada').connection, { all: true })).resolves.toEqual({
      unread: 0,
      changed: true,
    });
    expect(inbox.markRead).toHaveBeenCalledWith('ada', { all: true });
  });

  it("sets states for the socket's user (mark)", async () => {
    const result = { ids: [], changed: 2, counts: NO_COUNTS, unreadBefore: 2 };
    inbox.mark.mockResolvedValueOnce(result);

    await expect(
      sut.mark(connectionOf('ada').connection, { as: 'archived', all: true, onlyRead: true }),
    ).resolves.toEqual(result);
    expect(inbox.mark).toHaveBeenCalledWith('ada', { as: 'archived', all: true, onlyRead: true });
  });
});
