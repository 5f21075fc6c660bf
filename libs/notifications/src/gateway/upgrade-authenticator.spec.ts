import { CloseCode } from '@rtnotify/protocol';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { TokenVerifier, VerifiedIdentity } from '../auth/token.verifier.js';
import { InvalidTokenError } from '../errors/invalid-token.error.js';
import type { NotificationsMetrics } from '../notifications.metrics.js';
import { NotificationsSettings } from '../notifications.settings.js';
import { UpgradeAuthenticator, type VerifyClient } from './upgrade-authenticator.js';

const IDENTITY: VerifiedIdentity = { userId: 'ada', expiresAt: 1_700_000_000_000 };

function request(url: string, headers: Record<string, string> = {}): IncomingMessage {
  return { url, headers: { host: 'app.example', ...headers } } as unknown as IncomingMessage;
}

interface Answer {
  ok: boolean;
  status?: number;
  message?: string;
  headers?: OutgoingHttpHeaders;
}

/** What `verifyClient` answers for `req`. */
function answerOf(verifyClient: VerifyClient, req: IncomingMessage): Promise<Answer> {
  return new Promise((resolve) =>
    verifyClient({ req, secure: false }, (ok, status, message, headers) =>
      resolve({ ok, status, message, headers }),
    ),
  );
}

describe(UpgradeAuthenticator.name, () => {
  let verify: ReturnType<typeof vi.fn<TokenVerifier['verify']>>;
  let rejected: ReturnType<typeof vi.fn<(labels: { code: string }) => void>>;
  let sut: UpgradeAuthenticator;

  function createSut(allowedOrigins: string[] | '*' = []): UpgradeAuthenticator {
    const settings = new NotificationsSettings({ jwt: { secret: 's' }, allowedOrigins });
    const verifier = { verify } as unknown as TokenVerifier;
    const metrics = { rejected: { inc: rejected } } as unknown as NotificationsMetrics;
    return new UpgradeAuthenticator(verifier, settings, metrics);
  }

  beforeEach(() => {
    verify = vi.fn<TokenVerifier['verify']>(async (token) => {
      if (token === 'good') return IDENTITY;
      throw new InvalidTokenError('token expired');
    });
    rejected = vi.fn();
    sut = createSut();
  });

  describe('verifyClient, before the handshake', () => {
    it('accepts a valid token from the bearer subprotocol', async () => {
      const answer = await answerOf(
        sut.verifyClient,
        request('/ws', { 'sec-websocket-protocol': 'bearer, good' }),
      );

      expect(answer).toMatchObject({ ok: true });
      expect(verify).toHaveBeenCalledWith('good');
      expect(rejected).not.toHaveBeenCalled();
    });

    it('refuses a missing token with 401 and WWW-Authenticate, counted as 4401', async () => {
      const answer = await answerOf(sut.verifyClient, request('/ws'));

      expect(answer).toEqual({
        ok: false,
        status: 401,
        message: 'missing token',
        headers: { 'Content-Type': 'text/plain; charset=utf-8', 'WWW-Authenticate': 'Bearer' },
      });
      expect(verify).not.toHaveBeenCalled();
      expect(rejected).toHaveBeenCalledWith({ code: String(CloseCode.Unauthorized) });
    });

    it("refuses an invalid token with 401 and the verifier's reason", async () => {
      const answer = await answerOf(sut.verifyClient, request('/ws?token=bad'));

      expect(answer).toMatchObject({ ok: false, status: 401, message: 'token expired' });
    });

    it('says only "token invalid" for an unexpected verifier error', async () => {
      verify.mockRejectedValueOnce(new Error('secret detail'));

      const answer = await answerOf(sut.verifyClient, request('/ws?token=good'));

      expect(answer).toMatchObject({ ok: false, status: 401, message: 'token invalid' });
    });

    it('refuses a foreign origin with 403 before looking at the token, counted as 4403', async () => {
      const answer = await answerOf(
        sut.verifyClient,
        request('/ws?token=good', { origin: 'https://evil.example' }),
      );

      expect(answer).toEqual({
        ok: false,
        status: 403,
        message: 'origin not allowed',
        headers: { 'Content-Type': 'text/plain; charset=utf-8' },
      });
      expect(verify).not.toHaveBeenCalled();
      expect(rejected).toHaveBeenCalledWith({ code: String(CloseCode.OriginNotAllowed) });
    });

    it('accepts an origin of the allow-list', async () => {
      sut = createSut(['https://app.example']);

      const answer = await answerOf(
        sut.verifyClient,
        request('/ws?token=good', { origin: 'https://app.example' }),
      );

      expect(answer.ok).toBe(true);
    });
  });

  describe('authenticate, once the socket is open', () => {
    it('returns the identity verifyClient proved, without verifying again', async () => {
      const req = request('/ws?token=good');
      await answerOf(sut.verifyClient, req);
      verify.mockClear();

      expect(await sut.authenticate(req)).toEqual({ identity: IDENTITY });
      expect(verify).not.toHaveBeenCalled();
    });

    it('verifies an upgrade that did not go through verifyClient', async () => {
      expect(await sut.authenticate(request('/ws?token=good'))).toEqual({ identity: IDENTITY });
      expect(verify).toHaveBeenCalledOnce();
    });

    it.each([
      ['a missing token', request('/ws'), CloseCode.Unauthorized, 'missing token'],
      ['an invalid token', request('/ws?token=bad'), CloseCode.Unauthorized, 'token expired'],
      [
        'a foreign origin',
        request('/ws?token=good', { origin: 'https://evil.example' }),
        CloseCode.OriginNotAllowed,
        'origin not allowed',
      ],
    ])('refuses %s with the close code and reason', async (_case, req, closeCode, reason) => {
      expect(await sut.authenticate(req)).toEqual({ refused: { closeCode, reason } });
      // The gateway counts the close it makes.
      expect(rejected).not.toHaveBeenCalled();
    });
  });
});
