/** The JSON of `text`, or the text itself when it is not JSON. */
function parsed(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A small fetch wrapper: JSON in, status and JSON (or text) out. */
export async function http(method, url, options = {}) {
  const headers = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  return { status: response.status, body: parsed(await response.text()) };
}

/** POSTs a body as given (any text or bytes); returns the status and the parsed JSON (or text). */
export async function postRaw(url, body, token, contentType = 'application/json') {
  const headers = { 'content-type': contentType };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  return { status: response.status, body: parsed(await response.text()) };
}

/** The service's `/metrics` text (with METRICS_TOKEN as `token` when it is set). */
export async function scrapeMetrics(httpUrl, token) {
  return (await http('GET', `${httpUrl}/metrics`, { token })).body;
}

/**
 * The value of one series in Prometheus text, named with its labels as printed
 * (`notifications_closed_connections_total{code="4008"}`); `missing` when the series is absent.
 */
export function metricValue(text, series, missing = Number.NaN) {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(' ').at(-1)) : missing;
}

/** Every id of the user's history, oldest first, through the HTTP inbox. */
export async function storedIds(httpUrl, token) {
  const ids = [];
  let cursor = null;
  do {
    const query = `?limit=100${cursor ? `&before=${cursor}` : ''}`;
    const { body } = await http('GET', `${httpUrl}/v1/me/notifications${query}`, { token });
    ids.push(...body.items.map((item) => item.id));
    cursor = body.nextCursor;
  } while (cursor);
  return ids.reverse();
}
