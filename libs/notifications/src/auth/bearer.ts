/** What the guards read of a request: its headers, the same under Express and Fastify. */
export interface RequestWithHeaders {
  headers: Record<string, string | string[] | undefined>;
}

/**
 * The credential of an `Authorization: Bearer <credential>` header (the scheme in any case), or
 * undefined when the request has no such header. The library's guards read tokens and API keys with
 * it; a host's own guard can too.
 *
 * @example
 * const token = bearerCredential(context.switchToHttp().getRequest());
 */
export function bearerCredential(request: RequestWithHeaders): string | undefined {
  const header = request.headers.authorization;
  const [scheme, credential] = (typeof header === 'string' ? header : '').split(' ');
  return scheme?.toLowerCase() === 'bearer' && credential ? credential : undefined;
}
