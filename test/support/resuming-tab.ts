import { parseNotificationId } from '@rtnotify/protocol';
import { http } from './http.js';
import { TestClient, type CloseInfo } from './ws-client.js';

/**
 * A browser tab that follows one user's stream across closes: it resumes from the last id it saw,
 * on whichever gateway `target()` names, and counts what it got twice or out of order.
 */
export class ResumingTab {
  readonly received: string[] = [];
  readonly closes: CloseInfo[] = [];
  duplicates = 0;
  reordered = 0;
  truncations = 0;
  private lastId: string | undefined;
  private client: TestClient | undefined;
  private stopped = false;
  private connecting: Promise<void> = Promise.resolve();

  /** `onNotification` sees each notification the first time its id arrives. */
  constructor(
    private readonly token: string,
    private readonly target: () => string,
    private readonly onNotification?: (notification: { id: string; payload: any }) => void,
  ) {}

  async open(): Promise<void> {
    this.connecting = this.connect();
    await this.connecting;
  }

  private async connect(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      const client = TestClient.connect(this.target(), { token: this.token, since: this.lastId });
      client.socket.on('message', (raw) => this.onFrame(JSON.parse((raw as Buffer).toString())));
      try {
        await client.next('ready', 10_000);
      } catch {
        // Refused, dropped or closed before ready (a gateway going down): try again shortly.
        await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 1000)));
        continue;
      }
      this.client = client;
      void client.closed.then((info) => {
        this.closes.push(info);
        if (!this.stopped) this.connecting = this.connect();
      });
      return;
    }
  }

  private onFrame(frame: { event: string; data: any }): void {
    if (frame.event === 'ready') {
      if (frame.data.truncated) this.truncations++;
      this.lastId = frame.data.cursor as string;
    }
    if (frame.event !== 'notification') return;
    const id = frame.data.notification.id as string;
    if (this.received.includes(id)) {
      this.duplicates++;
      return;
    }
    const last = this.received.at(-1);
    if (last && parseNotificationId(id)!.seq < parseNotificationId(last)!.seq) this.reordered++;
    this.received.push(id);
    this.lastId = id;
    this.onNotification?.(frame.data.notification);
  }

  /** Drops the socket, as a flaky network or a refresh would; the tab resumes by itself. */
  drop(): void {
    this.client?.socket.terminate();
  }

  /** Waits until it has received `count` notifications (or the timeout passes). */
  async waitFor(count: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count && Date.now() < deadline) {
      await this.connecting;
      await this.client
        ?.next('notification', Math.max(1, deadline - Date.now()))
        .catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.connecting;
    await this.client?.close();
  }
}

/** Every id of the user's history, oldest first, through the HTTP inbox. */
export async function storedIds(httpUrl: string, token: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `?limit=100${cursor ? `&before=${cursor}` : ''}`;
    const { body } = await http('GET', `${httpUrl}/v1/me/notifications${query}`, { token });
    ids.push(...body.items.map((item: { id: string }) => item.id));
    cursor = body.nextCursor;
  } while (cursor);
  return ids.reverse();
}
