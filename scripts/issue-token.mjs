#!/usr/bin/env node
/**
 * Prints a user token signed with the service's JWT_SECRET, for a first look without a sign-in
 * system: paste it into the demo page, or send it as `Authorization: Bearer …` to the inbox API.
 *
 *   node scripts/issue-token.mjs <userId> [seconds]      (default 3600, at most 86400)
 *   docker compose exec notifications node scripts/issue-token.mjs ada
 *
 * Reads JWT_SECRET, JWT_ALGORITHMS (the first HS algorithm in it; HS256 when unset), JWT_ISSUER and
 * JWT_AUDIENCE as the service does. Prints the token alone on stdout; never prints the secret.
 */
import { SignJWT } from 'jose';

const EX_USAGE = 64;
const EX_CONFIG = 78;
const USAGE = 'usage: node scripts/issue-token.mjs <userId> [seconds]';

function fail(message, code) {
  process.stderr.write(`issue-token: ${message}\n`);
  process.exit(code);
}

const env = (name) => process.env[name]?.trim() || undefined;

const [userId, seconds = '3600', ...extra] = process.argv.slice(2);
if (userId === undefined || extra.length > 0) fail(USAGE, EX_USAGE);
if (userId.length < 1 || userId.length > 128 || userId.trim() === '') {
  fail('the user id must be 1-128 characters, not blank', EX_USAGE);
}
if (!/^[1-9]\d{0,4}$/.test(seconds) || Number(seconds) > 86_400) {
  fail('seconds must be a whole number from 1 to 86400', EX_USAGE);
}

if (env('JWT_PUBLIC_KEY')) {
  fail(
    'the service verifies tokens with JWT_PUBLIC_KEY: sign them with its private key',
    EX_CONFIG,
  );
}
const secret = env('JWT_SECRET');
if (!secret) fail('JWT_SECRET is not set (see .env.example)', EX_CONFIG);
const algorithm = (env('JWT_ALGORITHMS') ?? 'HS256')
  .split(',')
  .map((name) => name.trim())
  .find((name) => /^HS(256|384|512)$/.test(name));
if (!algorithm) fail('JWT_ALGORITHMS lists no HS algorithm, so a secret cannot sign', EX_CONFIG);

let jwt = new SignJWT({})
  .setProtectedHeader({ alg: algorithm, typ: 'JWT' })
  .setSubject(userId)
  .setIssuedAt()
  .setExpirationTime(`${seconds}s`);
const issuer = env('JWT_ISSUER');
const audience = env('JWT_AUDIENCE');
if (issuer) jwt = jwt.setIssuer(issuer);
if (audience) jwt = jwt.setAudience(audience);
try {
  process.stdout.write(`${await jwt.sign(new TextEncoder().encode(secret))}\n`);
} catch (error) {
  fail(`cannot sign with ${algorithm}: ${error.message}`, EX_CONFIG);
}
