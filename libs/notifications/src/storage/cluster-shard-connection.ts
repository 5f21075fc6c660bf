import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions as TlsOptions } from 'node:tls';
import RedisParser from 'redis-parser';

export interface ShardConnectionOptions {
  host: string;
  port: number;
  username?: string;
  password?: string;
  /** TLS options (as ioredis takes them); plain TCP when unset. */
  tls?: TlsOptions;
  connectionName?: string;
  /** Milliseconds between PINGs; a connection that leaves one unanswered until the next is closed. */
  pingIntervalMs: number;
  connectTimeoutMs: number;
}

/** What a shard connection reports; the channel is always one this connection was asked for. */
export interface ShardConnectionHandlers {
  message(channel: string, payload: string): void;
  /** `SSUBSCRIBE` confirmed: messages of the channel published from now on arrive. */
  subscribed(channel: string): void;
  /** `SSUBSCRIBE` answered with an error (`MOVED <slot> <host:port>`, `CLUSTERDOWN`, `LOADING`…). */
  refused(channel: string, error: string): void;
  /** The node unsubscribed the channel by itself: it no longer serves the channel's slot. */
  dropped(channel: string): void;
  /** The connection is gone (once): every channel it carried is no longer subscribed. */
  closed(reason: string): void;
}

type Pending =
  { kind: 'ssubscribe' | 'sunsubscribe'; channel: string } | { kind: 'auth' | 'setname' | 'ping' };

function command(...args: string[]): string {
  let out = `*${args.length}\r\n`;
  for (const arg of args) out += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
  return out;
}

/**
 * One sharded-pub/sub connection to one cluster node, speaking RESP2 itself so that every reply is
 * accounted for: replies are matched to commands in order, and an `sunsubscribe` push that answers
 * no `SUNSUBSCRIBE` of ours (the node lost the channel's slot) is reported as `dropped` rather than
 * mistaken for an answer. Anything it cannot account for closes the connection, which reports every
 * channel as lost; the owner subscribes them again elsewhere.
 */
export class ShardConnection {
  private readonly socket: Socket;
  private readonly pending: Pending[] = [];
  private readonly parser: RedisParser;
  private readonly heartbeat: NodeJS.Timeout;
  private pingOutstanding = false;
  private ended = false;

  constructor(
    readonly address: string,
    options: ShardConnectionOptions,
    private readonly handlers: ShardConnectionHandlers,
  ) {
    this.parser = new RedisParser({
      returnReply: (reply: unknown) => this.onReply(reply),
      returnError: (error: Error) => this.onError(error.message),
      returnFatalError: (error: Error) => this.end(`protocol error: ${error.message}`),
    });
    this.socket = options.tls
      ? connectTls({ host: options.host, port: options.port, ...options.tls })
      : connectTcp({ host: options.host, port: options.port });
    this.socket.setNoDelay(true);
    this.socket.setKeepAlive(true, options.pingIntervalMs);
    this.socket.setTimeout(options.connectTimeoutMs, () => this.end('connect timeout'));
    this.socket.once(options.tls ? 'secureConnect' : 'connect', () => this.socket.setTimeout(0));
    this.socket.on('data', (chunk: Buffer) => this.parser.execute(chunk));
    this.socket.on('error', (error: Error) => this.end(error.message));
    this.socket.on('close', () => this.end('connection closed'));
    if (options.password !== undefined) {
      const auth = options.username
        ? ['AUTH', options.username, options.password]
        : ['AUTH', options.password];
      this.send({ kind: 'auth' }, ...auth);
    }
    if (options.connectionName) {
      this.send({ kind: 'setname' }, 'CLIENT', 'SETNAME', options.connectionName);
    }
    this.heartbeat = setInterval(() => {
      if (this.pingOutstanding) return this.end('no answer to PING');
      this.pingOutstanding = true;
      this.send({ kind: 'ping' }, 'PING');
    }, options.pingIntervalMs);
    this.heartbeat.unref();
  }

  get isClosed(): boolean {
    return this.ended;
  }

  ssubscribe(channel: string): void {
    this.send({ kind: 'ssubscribe', channel }, 'SSUBSCRIBE', channel);
  }

  sunsubscribe(channel: string): void {
    this.send({ kind: 'sunsubscribe', channel }, 'SUNSUBSCRIBE', channel);
  }

  /** Closes the connection (reports `closed` like any other end). */
  close(): void {
    this.end('closed by the client');
  }

  private send(pending: Pending, ...args: string[]): void {
    if (this.ended) return;
    this.pending.push(pending);
    this.socket.write(command(...args));
  }

  private onReply(reply: unknown): void {
    if (Array.isArray(reply) && typeof reply[0] === 'string') {
      const [kind, channel, payload] = reply as [string, string, unknown];
      if (kind === 'smessage') return this.handlers.message(channel, String(payload));
      const head = this.pending[0];
      if (kind === 'sunsubscribe') {
        if (head?.kind === 'sunsubscribe' && head.channel === channel) this.pending.shift();
        else this.handlers.dropped(channel);
        return;
      }
      if (kind === 'ssubscribe' && head?.kind === 'ssubscribe' && head.channel === channel) {
        this.pending.shift();
        return this.handlers.subscribed(channel);
      }
      if (kind === 'pong' && head?.kind === 'ping') return this.answered();
    } else if (reply === 'PONG' && this.pending[0]?.kind === 'ping') {
      return this.answered();
    } else if (reply === 'OK' && ['auth', 'setname'].includes(this.pending[0]?.kind ?? '')) {
      this.pending.shift();
      return;
    }
    this.end('unexpected reply');
  }

  private answered(): void {
    this.pending.shift();
    this.pingOutstanding = false;
  }

  private onError(message: string): void {
    const head = this.pending.shift();
    if (!head) return this.end(`unexpected error reply: ${message}`);
    if (head.kind === 'ssubscribe') return this.handlers.refused(head.channel, message);
    // A password given to a node that requires none is no failure (ioredis also only warns).
    if (head.kind === 'auth' && !/without any password|no password is set/i.test(message)) {
      return this.end(`authentication failed: ${message}`);
    }
    if (head.kind === 'ping') this.pingOutstanding = false;
  }

  private end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.heartbeat);
    this.socket.destroy();
    this.pending.length = 0;
    this.handlers.closed(reason);
  }
}
