import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';

export interface RawExchange {
  /** The status of the server's answer, if one came. */
  status?: number;
  /** Everything the server sent (latin1). */
  answer: string;
  /** When the server closed the connection, in ms after the first write (undefined: it did not). */
  closedAfterMs?: number;
}

/**
 * Writes `head` on a raw TCP connection to 127.0.0.1 and never reads a close frame or sends more,
 * except `drip()` every `dripMs` when given (a slow client). Resolves when the server closes the
 * connection, or after `timeoutMs` (then `closedAfterMs` is undefined).
 */
export function rawExchange(
  port: number,
  head: string,
  options: { timeoutMs?: number; drip?: () => string; dripMs?: number } = {},
): Promise<RawExchange> {
  const { timeoutMs = 5000, drip, dripMs = 500 } = options;
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const startedAt = Date.now();
    let answer = '';
    let dripping: NodeJS.Timeout | undefined;
    const done = (closed: boolean) => {
      clearTimeout(timer);
      clearInterval(dripping);
      socket.destroy();
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      resolve({
        status: status ? Number(status[1]) : undefined,
        answer,
        closedAfterMs: closed ? Date.now() - startedAt : undefined,
      });
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => done(true));
    socket.write(head);
    if (drip) dripping = setInterval(() => socket.writable && socket.write(drip()), dripMs);
  });
}

/** The head of a WebSocket upgrade request for `path`, with `extraHeaders`. */
export function upgradeHead(path: string, extraHeaders: string[] = []): string {
  return [
    `GET ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    ...extraHeaders,
    '',
    '',
  ].join('\r\n');
}
