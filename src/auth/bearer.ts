import type { Request } from 'express';

/** The credential of an `Authorization: Bearer <credential>` header, if the request has one. */
export function bearerCredential(request: Request): string | undefined {
  const [scheme, credential] = (request.headers.authorization ?? '').split(' ');
  return scheme?.toLowerCase() === 'bearer' && credential ? credential : undefined;
}
