import type { INestApplication } from '@nestjs/common';
import type { Server } from 'node:http';

/** Timeouts of the HTTP server (the WebSocket upgrade requests included). */
export interface HttpTimeouts {
  /** A request's headers must arrive within this (slow headers: 408 and the connection closed). */
  headersTimeoutMs: number;
  /** A whole request, body included, must arrive within this. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. */
  keepAliveTimeoutMs: number;
}

/**
 * Bounds how long a client may hold a connection without completing a request (Node's defaults: 60 s
 * for headers, 300 s for a request, checked every 30 s).
 */
export function hardenHttpServer(app: INestApplication, timeouts: HttpTimeouts): void {
  const server = app.getHttpServer() as Server;
  server.headersTimeout = timeouts.headersTimeoutMs;
  server.requestTimeout = timeouts.requestTimeoutMs;
  server.keepAliveTimeout = timeouts.keepAliveTimeoutMs;
  // NOTE: read when the server starts listening; the default (30 s) would let a slow request
  // outlive its timeout by that much.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval =
    Math.min(1000, timeouts.headersTimeoutMs);
}
