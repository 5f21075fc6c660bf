import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';

/**
 * Writes `head` on a raw TCP connection to 127.0.0.1 and never reads a close frame or sends more,
 * except `drip()` every `dripMs` when given (a slow client). Resolves when the server closes the
 * connection, after `timeoutMs` (then `closedAfterMs` is undefined), or with `untilHead` as soon
 * as the head of an answer is in.
 */
export function rawExchange(port, head, options = {}) {
  const { timeoutMs = 5000, drip, dripMs = 500, untilHead = false } = options;
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const startedAt = Date.now();
    let answer = '';
    let dripping;
    let settled = false;
    const done = (closed) => {
      if (settled) return;
      settled = true;
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
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (untilHead && answer.includes('\r\n\r\n')) done(false);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => done(true));
    socket.write(head);
    if (drip) dripping = setInterval(() => socket.writable && socket.write(drip()), dripMs);
  });
}

/** The head of a WebSocket upgrade request for `path`, with `extraHeaders`. */
export function upgradeHead(path, extraHeaders = []) {
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
