import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from './openapi.js';
import { appConfig, InjectConfig, type ConfigOf } from '@infrastructure/configuration';
import { Public } from '@infrastructure/security';

class InfoDto {
  @ApiProperty({ example: 'sample-api' }) service!: string;
  @ApiProperty({ example: 'development' }) environment!: string;
  @ApiPropertyOptional({ example: 'v24.22.3', description: 'Not in production.' }) node?: string;
}

/** What is running: for humans poking at the API. */
@ApiTags('info')
@Public()
@Controller()
export class InfoController {
  constructor(@InjectConfig(appConfig) private readonly app: ConfigOf<typeof appConfig>) {}

  @Get()
  @ApiOkResponse({ type: InfoDto })
  info(): InfoDto {
    const { serviceName: service, nodeEnv: environment } = this.app;
    // Runtime versions help an attacker more than anyone else: not shown in production.
    return environment === 'production'
      ? { service, environment }
      : { service, environment, node: process.version };
  }
}
