import { NotificationsMetrics } from '@app/notifications';
import { Controller, Get, Header } from '@nestjs/common';

/** Prometheus metrics of this instance, in the text exposition format. */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: NotificationsMetrics) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
