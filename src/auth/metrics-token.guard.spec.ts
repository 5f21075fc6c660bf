import { UnauthorizedException, type ExecutionContext } from '@nestjs/common';
import { MetricsTokenGuard } from './metrics-token.guard.js';

const TOKEN = 'metrics-token-0123456789';

function contextWith(authorization?: string): ExecutionContext {
  const request = { headers: authorization === undefined ? {} : { authorization } };
  return {
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
}

describe(MetricsTokenGuard.name, () => {
  it('lets every scrape through without a token configured', () => {
    const sut = new MetricsTokenGuard(undefined);

    expect(sut.canActivate(contextWith())).toBe(true);
  });

  it.each([`Bearer ${TOKEN}`, `bearer ${TOKEN}`])('accepts %j', (header) => {
    const sut = new MetricsTokenGuard(TOKEN);

    expect(sut.canActivate(contextWith(header))).toBe(true);
  });

  it.each([undefined, TOKEN, `Basic ${TOKEN}`, 'Bearer ', 'Bearer wrong-token-0123456789'])(
    'refuses %j with 401',
    (header) => {
      const sut = new MetricsTokenGuard(TOKEN);

      expect(() => sut.canActivate(contextWith(header))).toThrow(UnauthorizedException);
    },
  );
});
