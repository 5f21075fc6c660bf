import { execFile } from 'node:child_process';
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';

const SCRIPT = 'scripts/issue-token.mjs';
const SECRET = 'a-first-look-secret-of-at-least-32-characters';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the script as a user would, with only the given variables set (plus PATH). */
function issueToken(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [SCRIPT, ...args],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 10_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

const key = new TextEncoder().encode(SECRET);

describe('scripts/issue-token.mjs (the first-look token of docker compose)', () => {
  it('prints one HS256 token for the user, valid for an hour, signed with JWT_SECRET', async () => {
    const sut = await issueToken(['ada'], { JWT_SECRET: ` ${SECRET} ` });

    expect(sut).toMatchObject({ code: 0, stderr: '' });
    const token = sut.stdout.trim();
    expect(sut.stdout).toBe(`${token}\n`);
    const { payload, protectedHeader } = await jwtVerify(token, key, { algorithms: ['HS256'] });
    expect(protectedHeader.alg).toBe('HS256');
    expect(payload.sub).toBe('ada');
    expect(payload.exp! - payload.iat!).toBe(3600);
  });

  it('honours the lifetime, JWT_ALGORITHMS, JWT_ISSUER and JWT_AUDIENCE as the service does', async () => {
    const sut = await issueToken(['user 42', '120'], {
      JWT_SECRET: SECRET,
      JWT_ALGORITHMS: 'HS384, HS512',
      JWT_ISSUER: 'https://id.example',
      JWT_AUDIENCE: 'notifications',
    });

    expect(sut.code).toBe(0);
    const { payload } = await jwtVerify(sut.stdout.trim(), key, {
      algorithms: ['HS384'],
      issuer: 'https://id.example',
      audience: 'notifications',
    });
    expect(payload.sub).toBe('user 42');
    expect(payload.exp! - payload.iat!).toBe(120);
  });

  it.each([
    [[], 'usage'],
    [['ada', '60', 'extra'], 'usage'],
    [[''], 'user id must be 1-128 characters'],
    [['   '], 'user id must be 1-128 characters'],
    [['u'.repeat(129)], 'user id must be 1-128 characters'],
    [['ada', '0'], 'seconds must be a whole number from 1 to 86400'],
    [['ada', '86401'], 'seconds must be a whole number from 1 to 86400'],
    [['ada', '1e3'], 'seconds must be a whole number from 1 to 86400'],
    [['ada', '-5'], 'seconds must be a whole number from 1 to 86400'],
    [['ada', '60s'], 'seconds must be a whole number from 1 to 86400'],
  ])('refuses the arguments %j with exit 64, naming the problem', async (args, problem) => {
    const sut = await issueToken(args, { JWT_SECRET: SECRET });

    expect(sut).toMatchObject({ code: 64, stdout: '' });
    expect(sut.stderr).toContain(problem);
    expect(sut.stderr).not.toContain(SECRET);
  });

  it.each([
    [{}, 'JWT_SECRET is not set'],
    [{ JWT_SECRET: '  ' }, 'JWT_SECRET is not set'],
    [{ JWT_SECRET: SECRET, JWT_ALGORITHMS: 'RS256' }, 'no HS algorithm'],
    [
      {
        JWT_SECRET: SECRET,
        JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\\nMIIB\\n-----END PUBLIC KEY-----',
      },
      'JWT_PUBLIC_KEY',
    ],
  ])('refuses the environment %j with exit 78, naming the problem', async (env, problem) => {
    const sut = await issueToken(['ada'], env);

    expect(sut).toMatchObject({ code: 78, stdout: '' });
    expect(sut.stderr).toContain(problem);
    expect(sut.stderr).not.toContain(SECRET);
  });

  it('never puts the secret in the token', async () => {
    const token = (await issueToken(['ada'], { JWT_SECRET: SECRET })).stdout.trim();

    expect(JSON.stringify([decodeProtectedHeader(token), decodeJwt(token)])).not.toContain(SECRET);
  });
});
