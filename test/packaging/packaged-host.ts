import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  statSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess, type StartedProcess } from '../kit/processes.mjs';
import { withTimeout } from '../kit/timing.mjs';

/**
 * A Nest application outside the repository that installs the three packages from their tarballs
 * and everything else from the registry, as a user would: the fixture in fixtures/host, copied to a
 * temporary folder. It has no path aliases and cannot see the repository's sources.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = join(REPO, 'test/packaging/fixtures/host');

/** The folders under libs/ and the stable tarball names the fixture's package.json refers to. */
const PACKAGES = [
  { folder: 'protocol', tarball: 'rtnotify-protocol.tgz' },
  { folder: 'client', tarball: 'rtnotify-client.tgz' },
  { folder: 'notifications', tarball: 'rtnotify-nestjs.tgz' },
] as const;

function newestMtime(dir: string, skip: (name: string) => boolean = () => false): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path, skip));
    else if (!skip(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * The packs are made from libs/X/dist as built by `npm run build:packages` (`npm test` builds first);
 * this suite never rebuilds them, since other suites running alongside import them.
 */
export function assertPackagesBuilt(): void {
  for (const { folder } of PACKAGES) {
    const entry = join(REPO, 'libs', folder, 'dist/index.js');
    const sources = newestMtime(
      join(REPO, 'libs', folder, 'src'),
      (name) => name.endsWith('.spec.ts') || name.endsWith('-spec-kit.ts'),
    );
    if (!existsSync(entry) || statSync(entry).mtimeMs < sources) {
      throw new Error(
        `libs/${folder}/dist is missing or older than its sources: run "npm run build:packages" ` +
          `first (npm test does)`,
      );
    }
  }
}

/** Environment of the npm and node commands run in the host: none of the outer `npm run`'s own. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra };
  for (const key of Object.keys(env)) {
    if (
      /^npm_(package|lifecycle)_/.test(key) ||
      /^npm_config_(local_prefix|workspaces?|include_workspace_root|call)$/.test(key) ||
      key === 'npm_command' ||
      key === 'INIT_CWD'
    ) {
      delete env[key];
    }
  }
  return env;
}

/** The npm that runs us (`npm test`), or the one on the PATH. */
function npmCommand(): [string, string[]] {
  const execPath = process.env.npm_execpath;
  return execPath?.endsWith('npm-cli.js') ? [process.execPath, [execPath]] : ['npm', []];
}

export interface StepResult {
  /** The standard output alone. */
  stdout: string;
  /** Standard output and error, interleaved. */
  output: string;
  seconds: number;
}

/** Runs one step of the host's life; fails naming the step, the command and its output. */
export async function runStep(
  step: string,
  command: string,
  args: string[],
  options: { cwd: string; timeoutMs: number; env?: Record<string, string> },
): Promise<StepResult> {
  const started = performance.now();
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: childEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) {
    const how =
      signal === 'SIGKILL'
        ? `did not finish within ${options.timeoutMs / 1000} s`
        : `exited with ${code ?? signal}`;
    throw new Error(
      `${step} ${how} (in ${options.cwd}):\n$ ${[basename(command), ...args].join(' ')}\n` +
        output.slice(-6000),
    );
  }
  console.log(`[packaging] ${step}: ${seconds.toFixed(1)} s`);
  return { stdout, output, seconds };
}

export class PackagedHost {
  private constructor(readonly dir: string) {}

  /** Packs the three packages into a fresh copy of the fixture. */
  static async create(): Promise<PackagedHost> {
    assertPackagesBuilt();
    const host = new PackagedHost(mkdtempSync(join(tmpdir(), 'rtnotify-host-')));
    cpSync(FIXTURE, host.dir, { recursive: true });
    const packs = join(host.dir, 'packs');
    mkdirSync(packs);
    await runStep('npm pack', process.execPath, ['scripts/pack-packages.mjs', packs], {
      cwd: REPO,
      timeoutMs: 120_000,
    });
    const made = readdirSync(packs);
    for (const { folder, tarball } of PACKAGES) {
      // rtnotify-nestjs-0.2.0.tgz -> rtnotify-nestjs.tgz, the name the fixture's package.json uses
      const file = made.find((name) => name.startsWith(tarball.replace('.tgz', '-')));
      if (!file) throw new Error(`npm pack made no tarball for libs/${folder}: ${made.join(', ')}`);
      renameSync(join(packs, file), join(packs, tarball));
    }
    return host;
  }

  /** `npm install` from the registry (through npm's cache when it can) and the tarballs. */
  npm(step: string, args: string[], timeoutMs = 300_000): Promise<StepResult> {
    const [command, prefix] = npmCommand();
    return runStep(
      step,
      command,
      [...prefix, ...args, '--no-audit', '--no-fund', '--prefer-offline'],
      {
        cwd: this.dir,
        timeoutMs,
      },
    );
  }

  /** Runs a Node script of the host (`node <script> ...args`) to its end. */
  node(
    step: string,
    args: string[],
    timeoutMs = 300_000,
    env: Record<string, string> = {},
  ): Promise<StepResult> {
    return runStep(step, process.execPath, args, { cwd: this.dir, timeoutMs, env });
  }

  bin(step: string, name: string, args: string[], timeoutMs = 120_000): Promise<StepResult> {
    return runStep(step, join(this.dir, 'node_modules/.bin', name), args, {
      cwd: this.dir,
      timeoutMs,
    });
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  /** Deletes the folder (its node_modules hold some 200 MB in thousands of files). */
  async remove(): Promise<void> {
    const started = performance.now();
    await rm(this.dir, { recursive: true, force: true });
    console.log(
      `[packaging] remove the host: ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }
}

/** A process of the host (`node dist/…`) whose output the test reads. */
export class HostProcess {
  protected constructor(protected readonly started: StartedProcess) {
    started.process.stdout?.on('data', (chunk: Buffer) => this.onOutput(chunk.toString()));
  }

  static spawn(host: PackagedHost, args: string[], env: Record<string, string>): HostProcess {
    return new HostProcess(HostProcess.start(host, args, env));
  }

  protected static start(
    host: PackagedHost,
    args: string[],
    env: Record<string, string>,
  ): StartedProcess {
    return startProcess(`host ${args[0]}`, process.execPath, args, { cwd: host.dir, env });
  }

  /** Sees each chunk of standard output as it comes. */
  protected onOutput(_chunk: string): void {}

  output(): string {
    return this.started.output();
  }

  /** Resolves once the output includes `text`; rejects with the output on timeout or exit. */
  waitForOutput(text: string, timeoutMs: number): Promise<void> {
    return this.started.waitFor(text, timeoutMs);
  }

  /**
   * Sends SIGTERM and resolves with how the process ended, or with `{ code: 'timeout' }` (and kills
   * it) when it is still there after `timeoutMs`.
   */
  async stop(
    timeoutMs = 20_000,
  ): Promise<{ code: number | null | 'timeout'; signal: string | null }> {
    const child = this.started.process;
    if (child.exitCode !== null || child.signalCode !== null) {
      return { code: child.exitCode, signal: child.signalCode };
    }
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    child.kill('SIGTERM');
    try {
      const [code, signal] = await withTimeout(exited, timeoutMs, 'exit after SIGTERM');
      return { code, signal };
    } catch {
      child.kill('SIGKILL');
      return { code: 'timeout', signal: null };
    }
  }
}

/** One JSON line of the fixture's client script: `{event, ...data}`. */
export interface ClientLine {
  event: string;
  [key: string]: any;
}

/** The fixture's Node client (dist/client.js) on the installed @rtnotify/client. */
export class NodeClient extends HostProcess {
  readonly events: ClientLine[] = [];
  private partial = '';
  private readonly waiters = new Set<() => void>();

  static connect(host: PackagedHost, socketUrl: string, tokenUrl: string): NodeClient {
    return new NodeClient(HostProcess.start(host, ['dist/client.js', socketUrl, tokenUrl], {}));
  }

  protected override onOutput(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines.filter(Boolean)) {
      try {
        this.events.push(JSON.parse(line) as ClientLine);
      } catch {
        this.events.push({ event: 'unparsed', line });
      }
    }
    for (const wake of this.waiters) wake();
  }

  /** The first event (seen so far or to come) that matches; rejects after `timeoutMs`. */
  async next(
    what: string,
    matches: (line: ClientLine) => boolean,
    timeoutMs = 20_000,
  ): Promise<ClientLine> {
    const found = () => this.events.find(matches);
    const seen = found();
    if (seen) return seen;
    return new Promise((resolve, reject) => {
      const wake = () => {
        const line = found();
        if (!line) return;
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(line);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        reject(
          new Error(`the Node client saw no ${what} within ${timeoutMs} ms:\n${this.output()}`),
        );
      }, timeoutMs);
      this.waiters.add(wake);
    });
  }
}
