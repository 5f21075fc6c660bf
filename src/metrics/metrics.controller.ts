import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { NotificationsMetrics } from '@rtnotify/nestjs';
import { collectDefaultMetrics } from 'prom-client';
import { MetricsTokenGuard } from './metrics-token.guard.js';

/** Prometheus metrics of this instance, in the text exposition format (METRICS_TOKEN: private). */
@Controller('metrics')
@UseGuards(MetricsTokenGuard)
export class MetricsController {
  constructor(private readonly metrics: NotificationsMetrics) {
    // Process metrics too: CPU, memory, event-loop delay (nodejs_eventloop_lag_p99_seconds, …).
    collectDefaultMetrics({ register: metrics.registry });
  }

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
