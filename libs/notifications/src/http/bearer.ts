/** What the guards read of a request: its headers, the same under Express and Fastify. */
export interface RequestWithHeaders {
  headers: Record<string, string | string[] | undefined>;
}

/** The credential of an `Authorization: Bearer <credential>` header, if the request has one. */
export function bearerCredential(request: RequestWithHeaders): string | undefined {
  const header = request.headers.authorization;
  const [scheme, credential] = (typeof header === 'string' ? header : '').split(' ');
  return scheme?.toLowerCase() === 'bearer' && credential ? credential : undefined;
}
