import { BadRequestException, UnsupportedMediaTypeException } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { exceedsJsonDepth } from './json-depth.js';

/** How large and how deep a JSON request body may be. */
export interface JsonBodyLimits {
  /** Largest body, in bytes (larger: 413, refused from `Content-Length` before it is read). */
  maxBytes: number;
  /** Deepest nesting of objects and arrays (deeper: 400, refused before the body is parsed). */
  maxDepth: number;
}

/**
 * `POST /v1/notifications` takes the job contract: the largest valid job (1,000 user ids of 128
 * characters and a 16 KiB payload) is over 100 KB, and it nests 33 levels (the job and a payload of
 * 32).
 */
export const PUBLISH_BODY: JsonBodyLimits = { maxBytes: 1024 * 1024, maxDepth: 64 };

/**
 * `POST /v1/presence` takes `{"userIds": [...]}`: 1,000 ids of 128 UTF-16 code units are about
 * 131 KB as plain ASCII and, written with an escape for every unit (`\uXXXX`, 6 bytes, which any
 * client may do), 1,000 × (128 × 6 + 2) + 999 commas + 14 = 771,013 bytes; 1 MiB holds that with room for
 * whitespace. A valid body nests 2 levels (the object and its array); 4 leaves room for a
 * mis-nested id to be named by the validator rather than by this guard.
 */
export const PRESENCE_BODY: JsonBodyLimits = { maxBytes: 1024 * 1024, maxDepth: 4 };

/** Every other body (the inbox, `/dev/*`): `{"ids": [...]}` holds at most 1,000 ids of 64 characters. */
export const SMALL_BODY: JsonBodyLimits = { maxBytes: 100 * 1024, maxDepth: 16 };

/** Paths whose bodies get limits of their own; every other path gets `SMALL_BODY`. */
export const BODY_LIMITS_BY_PATH: readonly (readonly [path: string, limits: JsonBodyLimits])[] = [
  ['/v1/notifications', PUBLISH_BODY],
  ['/v1/presence', PRESENCE_BODY],
];

/** The limits of a route: its own, or `SMALL_BODY`. A path's limits cover the paths under it. */
export function limitsFor(url: string | undefined): JsonBodyLimits {
  for (const [path, limits] of BODY_LIMITS_BY_PATH) {
    if (url === path || url?.startsWith(`${path}/`)) return limits;
  }
  return SMALL_BODY;
}

/**
 * How long a body refused before it was read in full (413) is still read, and dropped, after the
 * answer. Fastify closes such a connection at once, and the client, still sending, then often
 * gets a reset (EPIPE) instead of the 413: one in twenty 2 MiB POSTs here. Reading on for a while
 * lets it read the answer, as nginx's lingering close does; a body that is not in by then is cut.
 */
export const REFUSED_BODY_LINGER_MS = 2000;

/**
 * Keeps the connection of a request answered before its body was read in full (Fastify marks it
 * `Connection: close`): Node reads the rest of the body and drops it, and the connection is cut if
 * the body is not in within `REFUSED_BODY_LINGER_MS`.
 */
function lingerOnRefusedBody(request: FastifyRequest, reply: FastifyReply): void {
  const raw = request.raw;
  if (raw.complete || reply.getHeader('connection') !== 'close') return;
  reply.removeHeader('connection');
  const cut = setTimeout(() => raw.socket.destroy(), REFUSED_BODY_LINGER_MS).unref();
  raw.once('end', () => clearTimeout(cut));
}

/** The `charset` parameter of a Content-Type header, lower-cased ('utf-8' when absent). */
function charsetOf(contentType: string | string[] | undefined): string {
  const header = typeof contentType === 'string' ? contentType : '';
  const match = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(header);
  return match ? match[1].toLowerCase() : 'utf-8';
}

/**
 * Parses a JSON body already within its route's size: UTF-8 only (RFC 8259: JSON between systems
 * is UTF-8; the depth scan reads UTF-8 bytes), no deeper than its route's bound (checked before
 * parsing), and an empty body is `{}`. Failures are 4xx answers saying why.
 */
export function parseJsonBody(
  body: Buffer,
  contentType: string | string[] | undefined,
  limits: JsonBodyLimits,
): unknown {
  const charset = charsetOf(contentType);
  if (charset !== 'utf-8' && charset !== 'utf8') {
    throw new UnsupportedMediaTypeException('JSON bodies must be UTF-8');
  }
  if (body.length === 0) return {};
  if (exceedsJsonDepth(body, limits.maxDepth)) {
    throw new BadRequestException(`JSON body nests deeper than ${limits.maxDepth} levels`);
  }
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (error) {
    throw new BadRequestException((error as Error).message);
  }
}

/**
 * Registers the JSON body parser (the app must be created with `bodyParser: false`): publish and
 * presence take up to 1 MiB, every other path 100 KiB, refused (413) from `Content-Length` before
 * the body is read (then read and dropped for a while, so that the client gets the answer; see
 * `REFUSED_BODY_LINGER_MS`); no body may nest deeper than its bound. A body of another type is
 * read (within the same limit) and dropped, for the route to refuse (`JsonBodyGuard`: 415) or
 * ignore. Failures are 4xx answers, never a 500 or a stack trace in the log. Call it before
 * `init()`: the limits are set as the routes are added.
 */
export function useJsonBodies(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRoute', (route) => {
    route.bodyLimit = limitsFor(route.url).maxBytes;
  });
  fastify.addHook('onSend', (request, reply, payload, done) => {
    lingerOnRefusedBody(request, reply);
    done(null, payload);
  });
  app.useBodyParser('application/json', {}, async (request: FastifyRequest, body: Buffer) =>
    parseJsonBody(body, request.headers['content-type'], limitsFor(request.routeOptions.url)),
  );
  app.useBodyParser('*', {}, async () => undefined);
}
