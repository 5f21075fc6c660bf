import WebSocket from 'ws';
import { withTimeout } from './timing.mjs';

export interface Frame {
  event: string;
  data: Record<string, any>;
}

export interface CloseInfo {
  code: number;
  reason: string;
  /**
   * The HTTP status of an upgrade the server refused (401 token, 403 origin) instead of a `101`;
   * then `code` is 1006 and `reason` is the body of that answer.
   */
  status?: number;
}

export interface ConnectOptions {
  token?: string;
  /** Send the token as the subprotocol pair `["bearer", token]` instead of `?token=`. */
  viaProtocol?: boolean;
  since?: string;
  origin?: string;
  /** Answer server pings (default true); false plays a client whose network died silently. */
  autoPong?: boolean;
}

/** A real `ws` client that records every frame, for tests to wait on with timeouts. */
export class TestClient {
  readonly frames: Frame[] = [];
  readonly closed: Promise<CloseInfo>;
  private cursor = 0;
  private wake: (() => void) | undefined;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      if (!isBinary) this.frames.push(JSON.parse((data as Buffer).toString()) as Frame);
      this.wake?.();
    });
    let refusal: { status: number; reason: string } | undefined;
    socket.on('unexpected-response', (_request, response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        refusal = { status: response.statusCode ?? 0, reason: body };
        socket.terminate();
      });
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', (code, reason) => {
        this.wake?.();
        resolve(refusal ? { code, ...refusal } : { code, reason: reason.toString() });
      }),
    );
    socket.on('error', () => undefined);
  }

  static connect(baseUrl: string, options: ConnectOptions = {}): TestClient {
    const url = new URL(baseUrl);
    if (options.token && !options.viaProtocol) url.searchParams.set('token', options.token);
    if (options.since) url.searchParams.set('since', options.since);
    const protocols = options.token && options.viaProtocol ? ['bearer', options.token] : undefined;
    const socket = new WebSocket(url, protocols, {
      headers: options.origin ? { origin: options.origin } : {},
      perMessageDeflate: false,
      autoPong: options.autoPong ?? true,
    });
    return new TestClient(socket);
  }

  /** Connects and waits for `ready`. */
  static async ready(baseUrl: string, options: ConnectOptions = {}): Promise<TestClient> {
    const client = TestClient.connect(baseUrl, options);
    await client.next('ready');
    return client;
  }

  /** The next frame of `event` after the last one taken (earlier frames of other events are skipped). */
  async next(event: string, timeoutMs = 5000): Promise<Record<string, any>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.frames.length) {
        const frame = this.frames[this.cursor++];
        if (frame.event === event) return frame.data;
      }
      if (this.socket.readyState === WebSocket.CLOSED) {
        throw new Error(`socket closed while waiting for "${event}"`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no "${event}" frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Every frame of `event` received so far. */
  all(event: string): Record<string, any>[] {
    return this.frames.filter((frame) => frame.event === event).map((frame) => frame.data);
  }

  notificationIds(): string[] {
    return this.all('notification').map((data) => data.notification.id as string);
  }

  send(event: string, data?: unknown): void {
    this.socket.send(JSON.stringify(data === undefined ? { event } : { event, data }));
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.socket.send(data, { binary });
  }

  waitClosed(timeoutMs = 5000): Promise<CloseInfo> {
    return withTimeout(this.closed, timeoutMs, 'socket close');
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    this.socket.close();
    await this.closed;
  }
}

/**
 * Clients to close after each test: registers the `afterEach` (call it in a `describe`) and returns
 * `track`, which keeps a client (or several) and returns it.
 */
export function closeAfterEach(): <T extends TestClient | TestClient[]>(clients: T) => T {
  const open: TestClient[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((client) => client.close()));
  });
  return (clients) => {
    open.push(...(Array.isArray(clients) ? clients : [clients]));
    return clients;
  };
}
