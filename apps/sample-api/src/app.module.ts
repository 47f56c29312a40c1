import { Module, type DynamicModule } from '@nestjs/common';
import {
  appConfig,
  ConfigurationModule,
  type ConfigOf,
  type ConfigurationModuleOptions,
} from '@infrastructure/configuration';
import { MonitoringModule } from '@infrastructure/monitoring';
import { definitions, loggingConfig } from './config.js';
import { InfoController } from './info.controller.js';

/** The sample API's root module. */
@Module({})
export class AppModule {
  /** @param config where configuration is read from (tests pass an explicit env). */
  static forRoot(config: ConfigurationModuleOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigurationModule.forRoot({ definitions, ...config }),
        MonitoringModule.forRootAsync({
          inject: [appConfig.KEY, loggingConfig.KEY],
          useFactory: (app: ConfigOf<typeof appConfig>, logging: ConfigOf<typeof loggingConfig>) => ({
            serviceName: app.serviceName,
            environment: app.nodeEnv,
            logging: { level: logging.level },
            health: { disk: { path: process.cwd() } },
          }),
        }),
      ],
      controllers: [InfoController],
    };
  }
}
