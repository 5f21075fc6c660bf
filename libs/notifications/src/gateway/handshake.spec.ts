import type { IncomingMessage } from 'node:http';
import { originAllowed, sinceOf, tokenOf } from './handshake.js';

const request = (url: string | undefined, headers: Record<string, string> = {}): IncomingMessage =>
  ({ url, headers }) as unknown as IncomingMessage;

describe(tokenOf.name, () => {
  it('takes the token after the bearer subprotocol, over the query', () => {
    const req = request('/ws?token=QUERY', { 'sec-websocket-protocol': 'bearer, TOKEN' });

    expect(tokenOf(req)).toBe('TOKEN');
  });

  it('finds the bearer pair among other subprotocols', () => {
    const req = request('/ws', { 'sec-websocket-protocol': 'v1.notifications, bearer, TOKEN' });

    expect(tokenOf(req)).toBe('TOKEN');
  });

  it('takes the token from the query without a bearer subprotocol', () => {
    expect(tokenOf(request('/ws?token=QUERY'))).toBe('QUERY');
    expect(tokenOf(request('/ws?token=QUERY', { 'sec-websocket-protocol': 'v1' }))).toBe('QUERY');
  });

  it('falls back to the query when bearer has no token after it', () => {
    const req = request('/ws?token=QUERY', { 'sec-websocket-protocol': 'bearer' });

    expect(tokenOf(req)).toBe('QUERY');
  });

  it('is undefined without a token', () => {
    expect(tokenOf(request('/ws'))).toBeUndefined();
    expect(tokenOf(request('/ws?token='))).toBeUndefined();
    expect(tokenOf(request(undefined))).toBeUndefined();
    expect(tokenOf(request('/ws', { 'sec-websocket-protocol': 'bearer' }))).toBeUndefined();
  });

  it('decodes the query token', () => {
    expect(tokenOf(request('/ws?token=a%2Eb%2Ec'))).toBe('a.b.c');
  });
});

describe(sinceOf.name, () => {
  it('reads the since query parameter', () => {
    expect(sinceOf(request('/ws?since=abc-12&token=t'))).toBe('abc-12');
  });

  it('is undefined when absent or empty', () => {
    expect(sinceOf(request('/ws'))).toBeUndefined();
    expect(sinceOf(request('/ws?since='))).toBeUndefined();
    expect(sinceOf(request(undefined))).toBeUndefined();
  });
});

describe(originAllowed.name, () => {
  const fromOrigin = (origin: string, host = 'app.example') => request('/ws', { origin, host });

  it('allows a request without an Origin header', () => {
    const req = request('/ws', { host: 'app.example' });

    expect(originAllowed(req, [])).toBe(true);
    expect(originAllowed(req, ['https://a.example'])).toBe(true);
  });

  it("allows any origin with '*'", () => {
    expect(originAllowed(fromOrigin('https://evil.example'), '*')).toBe(true);
  });

  it('allows a listed origin', () => {
    const allowed = ['https://a.example', 'https://b.example'];

    expect(originAllowed(fromOrigin('https://b.example'), allowed)).toBe(true);
  });

  it('refuses an origin not on the list', () => {
    const allowed = ['https://a.example'];

    expect(originAllowed(fromOrigin('https://evil.example'), allowed)).toBe(false);
    expect(originAllowed(fromOrigin('http://a.example'), allowed)).toBe(false);
    expect(originAllowed(fromOrigin('https://a.example.evil.example'), allowed)).toBe(false);
  });

  describe('with an empty list (same-origin only)', () => {
    const behindTls = (origin: string, proto: string, host = 'app.example') =>
      request('/ws', { origin, host, 'x-forwarded-proto': proto });

    it('allows the same scheme, host and port', () => {
      expect(originAllowed(fromOrigin('http://app.example'), [])).toBe(true);
      expect(originAllowed(fromOrigin('http://app.example:8080', 'app.example:8080'), [])).toBe(
        true,
      );
      expect(originAllowed(fromOrigin('http://app.example:80'), [])).toBe(true);
      expect(originAllowed(fromOrigin('http://app.example', 'app.example:80'), [])).toBe(true);
      expect(originAllowed(fromOrigin('http://APP.example', 'app.example'), [])).toBe(true);
      expect(originAllowed(fromOrigin('http://[::1]:3000', '[::1]:3000'), [])).toBe(true);
    });

    it('takes the scheme from X-Forwarded-Proto (a proxy that terminates TLS), else the connection', () => {
      expect(originAllowed(behindTls('https://app.example', 'https'), [])).toBe(true);
      expect(originAllowed(behindTls('https://app.example', 'https, http'), [])).toBe(true);
      expect(originAllowed(behindTls('https://app.example:443', 'wss'), [])).toBe(true);
      expect(originAllowed(behindTls('http://app.example', 'https'), [])).toBe(false);
      const tls = {
        url: '/ws',
        headers: { origin: 'https://app.example', host: 'app.example' },
        socket: { encrypted: true },
      } as unknown as IncomingMessage;
      expect(originAllowed(tls, [])).toBe(true);
    });

    it('refuses another scheme, host or port', () => {
      expect(originAllowed(fromOrigin('https://evil.example'), [])).toBe(false);
      expect(originAllowed(fromOrigin('https://app.example'), [])).toBe(false);
      expect(originAllowed(fromOrigin('http://app.example:8443'), [])).toBe(false);
      expect(originAllowed(behindTls('https://app.example:8443', 'https'), [])).toBe(false);
      expect(originAllowed(fromOrigin('http://app.example', 'app.example:8080'), [])).toBe(false);
    });

    it('refuses a Host header that is not a plain host', () => {
      expect(originAllowed(fromOrigin('http://app.example', 'app.example/x'), [])).toBe(false);
      expect(originAllowed(fromOrigin('http://a@app.example', 'a@app.example'), [])).toBe(false);
    });

    it('refuses when the request has no Host header', () => {
      expect(originAllowed(request('/ws', { origin: 'https://app.example' }), [])).toBe(false);
    });

    it('refuses a malformed Origin', () => {
      expect(originAllowed(fromOrigin('not a url'), [])).toBe(false);
      expect(originAllowed(fromOrigin('null'), [])).toBe(false);
    });
  });
});
