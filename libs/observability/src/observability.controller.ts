import { Controller, Get, Header, HttpException, HttpStatus } from '@nestjs/common';
import { Registry } from 'prom-client';
import { HealthRegistry, type HealthReport } from './health.registry.js';

@Controller()
export class ObservabilityController {
  constructor(
    private readonly registry: Registry,
    private readonly health: HealthRegistry,
  ) {}

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  @Get('health/live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('health/ready')
  async ready(): Promise<HealthReport> {
    const report = await this.health.report();
    if (report.status !== 'ok') throw new HttpException(report, HttpStatus.SERVICE_UNAVAILABLE);
    return report;
  }
}
