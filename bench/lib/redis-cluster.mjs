import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startProcess } from '../../test/kit/processes.mjs';
import { sleep } from '../../test/kit/timing.mjs';

/**
 * A Redis Cluster of `masters` throwaway `redis-server --cluster-enabled yes` processes (no replicas,
 * nothing persisted), joined with `redis-cli --cluster create`; resolves once every node says
 * `cluster_state:ok`. `pids` are the nodes' processes (the bench sums their CPU), `seeds` is what
 * REDIS_CLUSTER_NODES takes.
 */
export async function startRedisCluster(masters) {
  const dir = mkdtempSync(join(tmpdir(), 'notif-bench-cluster-'));
  const ports = new Set();
  const nodes = [];
  while (nodes.length < masters) {
    const port = await freePort();
    const busPort = await freePort();
    if (ports.has(port) || ports.has(busPort) || port === busPort) continue;
    ports.add(port).add(busPort);
    const nodeDir = join(dir, String(port));
    mkdirSync(nodeDir);
    const node = startProcess(`redis-server:${port}`, 'redis-server', [
      ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      ...['--dir', nodeDir, '--cluster-enabled', 'yes', '--cluster-port', String(busPort)],
      ...['--cluster-config-file', 'nodes.conf'],
    ]);
    nodes.push({ port, node });
  }
  await Promise.all(nodes.map(({ node }) => node.waitFor('Ready to accept connections', 10_000)));
  const addresses = nodes.map(({ port }) => `127.0.0.1:${port}`);
  const create = ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'];
  execFileSync('redis-cli', create, { stdio: 'ignore' });
  const deadline = Date.now() + 30_000;
  const ok = (port) =>
    execFileSync('redis-cli', ['-p', String(port), 'cluster', 'info'])
      .toString()
      .includes('cluster_state:ok');
  while (!nodes.every(({ port }) => ok(port))) {
    if (Date.now() > deadline) throw new Error('the bench cluster did not reach cluster_state:ok');
    await sleep(100);
  }
  return {
    pids: nodes.map(({ node }) => node.pid),
    seeds: addresses.join(','),
    url: `cluster ${addresses.join(',')}`,
    async stop() {
      for (const { node } of nodes) await node.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
