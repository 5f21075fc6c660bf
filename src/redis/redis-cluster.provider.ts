import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Cluster } from 'ioredis';

/** The service's Redis Cluster connection (cluster mode only), shared by BullMQ and the library. */
export const REDIS_CLUSTER = Symbol('REDIS_CLUSTER');

/** BullMQ does not close a connection it was handed: the service closes its cluster connection. */
@Injectable()
export class RedisClusterCloser implements OnApplicationShutdown {
  constructor(@Inject(REDIS_CLUSTER) private readonly cluster: Cluster) {}

  async onApplicationShutdown(): Promise<void> {
    await this.cluster.quit().catch(() => this.cluster.disconnect());
  }
}
