import type { InboxPage, InboxStatus, MarkEventData, NotificationCounts } from '@rtnotify/protocol';

/** Fails with the HTTP status, so the element tells a refused token from a network failure. */
export class InboxHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface InboxQuery {
  status: InboxStatus;
  category?: string;
  before?: string;
  limit: number;
}

/** The signed-in user's HTTP inbox under `base` (`/v1/me/…`), with a bearer token. */
export class InboxHttp {
  constructor(
    private readonly base: string,
    private readonly token: (fresh: boolean) => Promise<string>,
  ) {}

  list(query: InboxQuery): Promise<InboxPage> {
    const params = new URLSearchParams({ status: query.status, limit: String(query.limit) });
    if (query.category) params.set('category', query.category);
    if (query.before) params.set('before', query.before);
    return this.request<InboxPage>('GET', `/v1/me/notifications?${params}`);
  }

  counts(): Promise<NotificationCounts> {
    return this.request<NotificationCounts>('GET', '/v1/me/counts');
  }

  mark(selection: MarkEventData): Promise<NotificationCounts> {
    return this.request<NotificationCounts>('POST', '/v1/me/notifications/mark', selection);
  }

  private async request<T>(
    method: string,
    path: string,
    body?: unknown,
    retried = false,
  ): Promise<T> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${await this.token(retried)}`,
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.base.replace(/\/$/, '')}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401 && !retried) return this.request<T>(method, path, body, true);
    if (!response.ok)
      throw new InboxHttpError(response.status, `${method} ${path}: ${response.status}`);
    return (await response.json()) as T;
  }
}
