import type { TokenSource } from './types.js';

/** What the client needs of `fetch`: the global one, or any compatible function. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
) => Promise<{ status: number; ok: boolean; statusText?: string; json(): Promise<unknown> }>;

/**
 * An HTTP route of the server answered with an error status (or could not be reached: `status` 0).
 * `messages` are the server's own (what a 400 says is wrong); never a stack trace.
 */
export class NotificationsHttpError extends Error {
  override readonly name = 'NotificationsHttpError';

  constructor(
    /** The HTTP status; 0 when no answer came (network failure). */
    readonly status: number,
    /** What the server said, one entry per problem (empty when it said nothing). */
    readonly messages: string[],
    message: string,
  ) {
    super(message);
  }
}

/**
 * The signed-in user's HTTP routes under `baseUrl`, with `Authorization: Bearer <token>`. The token
 * is asked for before every request; a 401 with a token function asks it once more and retries, as
 * a `4401` does for the socket.
 */
export class HttpApi {
  constructor(
    private readonly baseUrl: string,
    private readonly token: TokenSource,
    private readonly fetchFn: FetchLike,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response = await this.send(method, path, body);
    if (response.status === 401 && typeof this.token === 'function') {
      response = await this.send(method, path, body);
    }
    const data = await response.json().catch(() => undefined);
    if (!response.ok) {
      const messages = messagesOf(data);
      const what = response.status === 401 ? 'the token was refused' : messages.join('; ');
      throw new NotificationsHttpError(
        response.status,
        messages,
        `${method} ${path}: ${response.status}${what ? ` (${what})` : ''}`,
      );
    }
    return data as T;
  }

  private async send(method: string, path: string, body: unknown) {
    let token: string;
    try {
      const source = this.token;
      token = typeof source === 'function' ? await source() : source;
      if (typeof token !== 'string' || token === '') throw new Error('it returned no token');
    } catch (error) {
      throw new NotificationsHttpError(0, [], `${method} ${path}: no token (${messageOf(error)})`);
    }
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await this.fetchFn(`${this.baseUrl.replace(/\/$/, '')}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new NotificationsHttpError(0, [], `${method} ${path}: ${messageOf(error)}`);
    }
  }
}

/** The `message` of a Nest error body: a string or a list of them. */
function messagesOf(data: unknown): string[] {
  const message = (data as { message?: unknown } | undefined)?.message;
  if (typeof message === 'string') return [message];
  if (Array.isArray(message)) return message.filter((m): m is string => typeof m === 'string');
  return [];
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
