import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { FALLBACK_JOB_NAME, type FallbackJobData, type Notification } from '@rtnotify/nestjs';
import { UnrecoverableError, type Job } from 'bullmq';

/**
 * Turns `fallback` jobs into emails. The logger stands in for a mail server: it says who would get
 * what type, never the payload (which may hold personal data). A job that is not a `fallback` job
 * with a user and a notification fails at once, unretried.
 */
@Injectable()
export class FallbackMailProcessor extends WorkerHost {
  private readonly logger = new Logger(FallbackMailProcessor.name);

  async process(job: Job<FallbackJobData>): Promise<{ sent: true }> {
    const { userId, notification } = job.data ?? {};
    if (
      job.name !== FALLBACK_JOB_NAME ||
      typeof userId !== 'string' ||
      typeof notification?.type !== 'string'
    ) {
      throw new UnrecoverableError(
        `not a fallback job (name "${job.name.slice(0, 64)}", data {userId, notification})`,
      );
    }
    await this.sendMail(userId, notification);
    return { sent: true };
  }

  /** Where a real host renders a template and calls its mail server (or push service). */
  protected async sendMail(userId: string, notification: Notification): Promise<void> {
    this.logger.log(`fallback for ${userId}: ${notification.type}`);
  }
}

/** The processor bound to the host's fallback queue (`@Processor` needs the name when declared). */
export function fallbackMailProcessorFor(queue: string): typeof FallbackMailProcessor {
  @Processor(queue)
  class QueueFallbackMailProcessor extends FallbackMailProcessor {}
  return QueueFallbackMailProcessor;
}
