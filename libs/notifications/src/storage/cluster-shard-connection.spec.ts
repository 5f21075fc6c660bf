import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import RedisParser from 'redis-parser';
import { ShardConnection, type ShardConnectionHandlers } from './cluster-shard-connection.js';

/** A scripted stand-in for a cluster node: records the commands and answers as a test says. */
class FakeNode {
  readonly commands: string[][] = [];
  private client: Socket | undefined;
  private waiters: (() => void)[] = [];

  private constructor(readonly server: Server) {}

  static async start(): Promise<FakeNode> {
    const node = new FakeNode(createServer());
    node.server.on('connection', (socket) => {
      node.client = socket;
      const parser = new RedisParser({
        returnReply: (command: string[]) => {
          node.commands.push(command);
          for (const wake of node.waiters.splice(0)) wake();
        },
        returnError: () => undefined,
      });
      socket.on('data', (chunk: Buffer) => parser.execute(chunk));
    });
    node.server.listen(0, '127.0.0.1');
    await once(node.server, 'listening');
    return node;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  async received(count: number): Promise<void> {
    while (this.commands.length < count) await new Promise<void>((r) => this.waiters.push(r));
  }

  /** Writes raw RESP to the client. */
  send(resp: string): void {
    this.client?.write(resp);
  }

  push(...parts: (string | number)[]): void {
    this.send(
      `*${parts.length}\r\n` +
        parts
          .map((p) =>
            typeof p === 'number' ? `:${p}\r\n` : `$${Buffer.byteLength(p)}\r\n${p}\r\n`,
          )
          .join(''),
    );
  }

  async stop(): Promise<void> {
    this.client?.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

function recorder() {
  const events: unknown[][] = [];
  let wake: (() => void) | undefined;
  const record =
    (name: string) =>
    (...args: unknown[]) => {
      events.push([name, ...args]);
      wake?.();
    };
  const handlers: ShardConnectionHandlers = {
    message: record('message'),
    subscribed: record('subscribed'),
    refused: record('refused'),
    dropped: record('dropped'),
    closed: record('closed'),
  };
  const until = async (count: number) => {
    while (events.length < count) await new Promise<void>((r) => (wake = r));
  };
  return { events, handlers, until };
}

describe(ShardConnection.name, () => {
  let node: FakeNode;
  let sut: ShardConnection | undefined;

  beforeEach(async () => {
    node = await FakeNode.start();
  });

  afterEach(async () => {
    sut?.close();
    await node.stop();
  });

  const connect = (handlers: ShardConnectionHandlers, extra: { password?: string } = {}) =>
    new ShardConnection(
      `127.0.0.1:${node.port}`,
      {
        host: '127.0.0.1',
        port: node.port,
        pingIntervalMs: 60_000,
        connectTimeoutMs: 5000,
        ...extra,
      },
      handlers,
    );

  it('authenticates first, then subscribes, and passes messages on', async () => {
    const { events, handlers, until } = recorder();
    sut = connect(handlers, { password: 'pw' });
    sut.ssubscribe('c1');
    await node.received(2);
    node.send('+OK\r\n');
    node.push('ssubscribe', 'c1', 1);
    node.push('smessage', 'c1', 'hello');
    await until(2);

    expect(node.commands).toEqual([
      ['AUTH', 'pw'],
      ['SSUBSCRIBE', 'c1'],
    ]);
    expect(events).toEqual([
      ['subscribed', 'c1'],
      ['message', 'c1', 'hello'],
    ]);
  });

  it("reports an unsolicited sunsubscribe (slot moved away) as dropped, without taking it for a pending command's answer", async () => {
    const { events, handlers, until } = recorder();
    sut = connect(handlers);
    sut.ssubscribe('c1');
    await node.received(1);
    node.push('ssubscribe', 'c1', 1);
    await until(1);
    sut.ssubscribe('c2');
    await node.received(2);
    // The node loses c1's slot while our SSUBSCRIBE c2 is in flight.
    node.push('sunsubscribe', 'c1', 0);
    node.push('ssubscribe', 'c2', 1);
    await until(3);

    expect(events).toEqual([
      ['subscribed', 'c1'],
      ['dropped', 'c1'],
      ['subscribed', 'c2'],
    ]);
  });

  it('takes the answer to its own SUNSUBSCRIBE as such', async () => {
    const { events, handlers, until } = recorder();
    sut = connect(handlers);
    sut.ssubscribe('c1');
    sut.sunsubscribe('c1');
    sut.ssubscribe('c2');
    await node.received(3);
    node.push('ssubscribe', 'c1', 1);
    node.push('sunsubscribe', 'c1', 0);
    node.push('ssubscribe', 'c2', 1);
    await until(2);

    expect(events).toEqual([
      ['subscribed', 'c1'],
      ['subscribed', 'c2'],
    ]);
  });

  it('reports an error answer to SSUBSCRIBE (MOVED) with its channel', async () => {
    const { events, handlers, until } = recorder();
    sut = connect(handlers);
    sut.ssubscribe('c1');
    sut.ssubscribe('c2');
    await node.received(2);
    node.send('-MOVED 42 127.0.0.1:7001\r\n');
    node.push('ssubscribe', 'c2', 1);
    await until(2);

    expect(events).toEqual([
      ['refused', 'c1', 'MOVED 42 127.0.0.1:7001'],
      ['subscribed', 'c2'],
    ]);
  });

  it('closes on a reply it cannot account for', async () => {
    const { events, handlers, until } = recorder();
    sut = connect(handlers);
    sut.ssubscribe('c1');
    await node.received(1);
    node.push('ssubscribe', 'other', 1);
    await until(1);

    expect(events).toEqual([['closed', 'unexpected reply']]);
    expect(sut.isClosed).toBe(true);
  });

  it('closes once when the node goes away, and when a PING stays unanswered', async () => {
    const first = recorder();
    sut = connect(first.handlers);
    sut.ssubscribe('c1');
    await node.received(1);
    await node.stop();
    await first.until(1);
    expect(first.events).toEqual([['closed', 'connection closed']]);

    node = await FakeNode.start();
    const second = recorder();
    sut = new ShardConnection(
      `127.0.0.1:${node.port}`,
      { host: '127.0.0.1', port: node.port, pingIntervalMs: 50, connectTimeoutMs: 5000 },
      second.handlers,
    );
    await second.until(1);
    expect(node.commands[0]).toEqual(['PING']);
    expect(second.events).toEqual([['closed', 'no answer to PING']]);
  });

  it('reports a connection refused as closed', async () => {
    const { events, handlers, until } = recorder();
    const port = node.port;
    await node.stop();
    node = await FakeNode.start();
    sut = new ShardConnection(
      `127.0.0.1:${port}`,
      { host: '127.0.0.1', port, pingIntervalMs: 60_000, connectTimeoutMs: 5000 },
      handlers,
    );
    await until(1);

    expect(events[0][0]).toBe('closed');
  });
});
