/**
 * Option `name` of `parseArgs`' `values` as a whole number ≥ 1, or `fallback` when it was not given;
 * anything else ends the process with a message (and `usage`, when given) and exit code 2.
 */
export function wholeNumberOption(values, name, { fallback, usage } = {}) {
  const text = values[name];
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} wants a whole number ≥ 1, got "${text}"${usage ? `\n${usage}` : ''}`);
    process.exit(2);
  }
  return n;
}
