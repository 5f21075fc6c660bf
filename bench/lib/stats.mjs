/** p50 / p99 / p99.9 / max / mean of `values` (milliseconds); nulls when there are none. */
export function summarize(values) {
  const n = values.length;
  if (n === 0) return { count: 0, p50: null, p99: null, p999: null, max: null, mean: null };
  const sorted = Float64Array.from(values).sort();
  const at = (q) => sorted[Math.min(n - 1, Math.ceil(q * n) - 1)];
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: n,
    p50: round(at(0.5)),
    p99: round(at(0.99)),
    p999: round(at(0.999)),
    max: round(sorted[n - 1]),
    mean: round(sum / n),
  };
}

export function round(value, digits = 2) {
  if (value === null || value === undefined || !Number.isFinite(value)) return value ?? null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
