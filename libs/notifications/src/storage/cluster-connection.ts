import type { Cluster, Redis } from 'ioredis';

/** The store's connection: one Redis, or a Redis Cluster when the host's BullMQ connection is one. */
export type RedisConnection = Redis | Cluster;

export function isCluster(redis: RedisConnection): redis is Cluster {
  return (redis as { isCluster?: boolean }).isCluster === true;
}
