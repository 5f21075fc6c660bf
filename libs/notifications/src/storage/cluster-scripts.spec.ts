import { clusterScriptChanges, forCluster, SEQ_FENCE } from './cluster-scripts.js';
import {
  APPEND_SCRIPT,
  COUNTS_SCRIPT,
  EXPIRE_SCRIPT,
  LIST_SCRIPT,
  MARK_SCRIPT,
  REPLAY_SCRIPT,
  RESCHEDULE_SCRIPT,
} from './lua-scripts.js';

/*
 * The cluster form of the scripts is made by substitution. If a script changes so that a
 * substitution no longer applies, these tests say so, instead of a cluster silently publishing with
 * PUBLISH or reusing ids after a failover.
 */
describe(forCluster.name, () => {
  it('finds one sequence step and the one publish (publishFrame) in the append script', () => {
    expect(clusterScriptChanges(APPEND_SCRIPT)).toEqual({ publishes: 1, sequences: 1 });
  });

  it.each([
    ['replay', REPLAY_SCRIPT],
    ['list', LIST_SCRIPT],
    ['mark', MARK_SCRIPT],
    ['counts', COUNTS_SCRIPT],
    ['expire', EXPIRE_SCRIPT],
  ])('finds the one publish of the %s script and no sequence step', (_name, lua) => {
    expect(clusterScriptChanges(lua)).toEqual({ publishes: 1, sequences: 0 });
    expect(forCluster(lua)).not.toMatch(/'PUBLISH'/);
    expect(forCluster(lua)).toContain("redis.call('SPUBLISH', channel,");
  });

  it('takes the next sequence number through the per-node fence', () => {
    const sut = forCluster(APPEND_SCRIPT);

    expect(clusterScriptChanges(sut)).toEqual({ publishes: 0, sequences: 0 });
    expect(sut).toContain('local seq = int(nextSeq())');
    expect(sut).toContain(`redis.call('HINCRBY', KEYS[2], 'seq', ${SEQ_FENCE})`);
    expect(sut).toContain("redis.call('CLUSTER', 'MYID')");
  });

  it('leaves a script without a publish or a sequence step as it is', () => {
    expect(forCluster(RESCHEDULE_SCRIPT)).toBe(RESCHEDULE_SCRIPT);
  });
});
