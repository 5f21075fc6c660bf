import { defineConfig } from 'vitest/config';

/**
 * Every test: unit specs beside the code and end-to-end suites in test/, one private Redis. The
 * service and the suites import the packages as any host does (`@rtnotify/*`, their built dist/),
 * so `npm test` builds first.
 */
export default defineConfig({
  test: {
    globals: true,
    root: './',
    include: ['src/**/*.spec.ts', 'libs/**/*.spec.ts', 'test/**/*.e2e-spec.ts'],
    globalSetup: ['./test/kit/global-setup.ts'],
    testTimeout: 30_000,
    // expect.poll waits on what has no event (a page's list, say); 1 s by default is tight under load.
    expect: { poll: { timeout: 15_000 } },
    // Hooks start services (redis-server, the built service as a process): generous on a loaded machine.
    hookTimeout: 120_000,
    reporters: ['default', './test/kit/summary-reporter.ts'],
  },
});
