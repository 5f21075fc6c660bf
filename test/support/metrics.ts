import { http } from './http.js';

/** The service's `/metrics` text. */
export async function scrapeMetrics(httpUrl: string): Promise<string> {
  return (await http('GET', `${httpUrl}/metrics`)).body as string;
}

/**
 * The value of one series in Prometheus text, named with its labels as printed
 * (`notifications_closed_connections_total{code="4008"}`); `missing` when the series is absent.
 */
export function metricValue(text: string, series: string, missing = Number.NaN): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(' ').at(-1)) : missing;
}
