import { BullModule } from '@nestjs/bullmq';
import { Module, type DynamicModule } from '@nestjs/common';
import { fallbackMailProcessorFor } from './fallback-mail.processor.js';

/**
 * The service's own worker for the library's fallback queue (`FALLBACK_QUEUE`, with
 * `FALLBACK_LOG_JOBS=1`): each `fallback` job
 * becomes an "email", which this service only logs. On the host's BullMQ connection
 * (`BullModule.forRoot`).
 */
@Module({})
export class FallbackMailModule {
  static forRoot(queue: string): DynamicModule {
    return {
      module: FallbackMailModule,
      imports: [BullModule.registerQueue({ name: queue })],
      providers: [fallbackMailProcessorFor(queue)],
    };
  }
}
