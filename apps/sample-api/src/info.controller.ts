import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { appConfig, InjectConfig, type ConfigOf } from '@infrastructure/configuration';
import { Public } from '@infrastructure/security';

class InfoDto {
  @ApiProperty({ example: 'sample-api' }) service!: string;
  @ApiProperty({ example: 'development' }) environment!: string;
  @ApiProperty({ example: 'v20.20.2' }) node!: string;
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
    return { service: this.app.serviceName, environment: this.app.nodeEnv, node: process.version };
  }
}
