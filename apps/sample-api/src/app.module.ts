import { Module, type DynamicModule } from '@nestjs/common';
import {
  ConfigurationModule,
  type ConfigurationModuleOptions,
} from '@infrastructure/configuration';
import { TerminusModule } from '@nestjs/terminus';
import { definitions } from './config.js';
import { HealthController } from './health/health.controller.js';
import { InfoController } from './info.controller.js';

/** The sample API's root module. */
@Module({})
export class AppModule {
  /** @param config where configuration is read from (tests pass an explicit env). */
  static forRoot(config: ConfigurationModuleOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigurationModule.forRoot({ definitions, ...config }), TerminusModule],
      controllers: [HealthController, InfoController],
    };
  }
}
