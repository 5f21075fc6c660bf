import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { NotificationsHealth } from '@rtnotify/nestjs';

/** Liveness (the process answers) and readiness (Redis answers: 503 while it does not). */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly notifications: NotificationsHealth,
  ) {}

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () =>
        this.indicators
          .check('redis')
          .attempt(() => this.notifications.ping())
          .withTimeout(1000),
    ]);
  }
}
