/**
 * The one clock of the bench. `process.hrtime()` reads CLOCK_MONOTONIC, which on Linux is a single
 * clock for every process of the machine: a stamp the producer takes can be compared with a reading
 * the client process takes, to well under a microsecond, and NTP steps cannot move it.
 */
export function nowMs() {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1e3 + nanoseconds / 1e6;
}
