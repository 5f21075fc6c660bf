export interface HttpAnswer {
  status: number;
  /** The parsed JSON, or the text when it is not JSON. */
  body: any;
}

/** A small fetch wrapper: JSON in, status and JSON (or text) out. */
export function http(
  method: string,
  url: string,
  options?: { token?: string; body?: unknown; headers?: Record<string, string> },
): Promise<HttpAnswer>;

/** POSTs a body as given (any text or bytes); returns the status and the parsed JSON (or text). */
export function postRaw(
  url: string,
  body: string | Buffer,
  token?: string,
  contentType?: string,
): Promise<HttpAnswer>;

/** The service's `/metrics` text (with METRICS_TOKEN as `token` when it is set). */
export function scrapeMetrics(httpUrl: string, token?: string): Promise<string>;

/** The value of one series in Prometheus text; `missing` (NaN) when the series is absent. */
export function metricValue(text: string, series: string, missing?: number): number;

/** Every id of the user's history, oldest first, through the HTTP inbox. */
export function storedIds(httpUrl: string, token: string): Promise<string[]>;
