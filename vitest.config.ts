import { configDefaults, defineConfig } from 'vitest/config';

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
    // NOTE: the packaging suite runs only with PACKAGING=1 (`npm run test:packaging`) until a failure
    // seen once in CI on Node 24 (other specs' notifications late while it ran) is understood.
    exclude: process.env.PACKAGING
      ? configDefaults.exclude
      : [...configDefaults.exclude, 'test/packaging/**'],
    globalSetup: ['./test/kit/global-setup.ts'],
    testTimeout: 30_000,
    // Hooks start services (redis-server, the built service as a process): generous on a loaded machine.
    hookTimeout: 120_000,
    reporters: ['default', './test/kit/summary-reporter.ts'],
  },
});
