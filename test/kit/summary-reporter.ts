import type { Reporter, TestCase, TestModule } from 'vitest/node';

/**
 * Ends the run with the plain line CI reads: `N passed, N failed, N skipped`. Before it, one
 * `FAILED: file > test: first line of the error` line per failure, so that the end of a long log
 * (all CI keeps of it, say) still names what failed.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<unknown>,
  ): void {
    let passed = 0;
    let skipped = 0;
    const failures: string[] = [];
    for (const module of testModules) {
      const failedBefore = failures.length;
      for (const test of module.children.allTests()) {
        const result = test.result();
        if (result.state === 'passed') passed++;
        else if (result.state === 'failed') failures.push(failureLine(module, test, result.errors));
        else skipped++;
      }
      // A file that failed outside its tests (a hook, an import) counts once, even if no test failed.
      if (module.state() === 'failed' && failures.length === failedBefore) {
        failures.push(`${relative(module.moduleId)}: ${firstLine(module.errors()[0]?.message)}`);
      }
    }
    for (const error of unhandledErrors) {
      failures.push(`unhandled error: ${firstLine((error as Error | undefined)?.message)}`);
    }
    const out = failures.map((line) => `FAILED: ${line}\n`).join('');
    process.stdout.write(
      `\n${out}${passed} passed, ${failures.length} failed, ${skipped} skipped\n`,
    );
  }
}

function failureLine(
  module: TestModule,
  test: TestCase,
  errors: ReadonlyArray<{ message?: string }>,
): string {
  return `${relative(module.moduleId)} > ${test.fullName}: ${firstLine(errors[0]?.message)}`;
}

function relative(path: string): string {
  const cwd = `${process.cwd()}/`;
  return path.startsWith(cwd) ? path.slice(cwd.length) : path;
}

/** The first line of an error's message, at most 300 characters (no stack, no multi-line diffs). */
function firstLine(message: string | undefined): string {
  const line = (message ?? 'no message').split('\n', 1)[0].trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
