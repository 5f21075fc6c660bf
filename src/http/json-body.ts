import type { INestApplication } from '@nestjs/common';
import express, { type RequestHandler } from 'express';
import type { IncomingMessage } from 'node:http';
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

/** An error body-parser answers with its own status; a 4xx message reaches the client as is. */
function clientError(status: number, message: string): Error {
  return Object.assign(new Error(message), { status, statusCode: status, expose: true });
}

/** A JSON body parser that refuses bodies over `limits` before they are parsed. */
export function jsonBody(limits: JsonBodyLimits): RequestHandler {
  return express.json({
    limit: limits.maxBytes,
    verify: (_request: IncomingMessage, _response: unknown, body: Buffer, encoding: string) => {
      // RFC 8259: JSON between systems is UTF-8. The depth scan reads UTF-8 bytes.
      if (encoding !== 'utf-8' && encoding !== 'utf8') {
        throw clientError(415, 'JSON bodies must be UTF-8');
      }
      if (exceedsJsonDepth(body, limits.maxDepth)) {
        throw clientError(400, `JSON body nests deeper than ${limits.maxDepth} levels`);
      }
    },
  });
}

/**
 * Registers the JSON body parsers (the app must be created with `bodyParser: false`): publish and
 * presence take up to 1 MiB, every other path 100 KiB; no body may nest deeper than its bound. Failures are
 * 4xx answers (Nest maps body-parser's errors), never a 500 or a stack trace in the log.
 */
export function useJsonBodies(app: INestApplication): void {
  for (const [path, limits] of BODY_LIMITS_BY_PATH) app.use(path, jsonBody(limits));
  // A body the parser above already read is not read again.
  app.use(jsonBody(SMALL_BODY));
}
