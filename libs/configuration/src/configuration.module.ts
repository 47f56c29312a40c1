import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { extendModule } from '@infrastructure/core';
import type { ConfigDefinition } from './config-definition.js';
import { LOADED_CONFIGURATION } from './configuration.constants.js';
import {
  ASYNC_OPTIONS_TYPE,
  CONFIGURATION_MODULE_OPTIONS,
  ConfigurableModuleClass,
  OPTIONS_TYPE,
} from './configuration.module-definition.js';
import {
  validateConfigurationOptions,
  type ConfigurationModuleOptions,
} from './configuration.options.js';
import { ConfigurationService } from './configuration.service.js';
import { LoadedConfiguration } from './load-configuration.js';
import { RawSources } from './sources.js';

function namespaceProvider(def: ConfigDefinition): Provider {
  return {
    provide: def.KEY,
    useFactory: (loaded: LoadedConfiguration) => loaded.get(def),
    inject: [LOADED_CONFIGURATION],
  };
}

function withConfigProviders(
  module: DynamicModule,
  definitions: readonly ConfigDefinition[],
): DynamicModule {
  const namespaceProviders = definitions.map(namespaceProvider);
  const providers: Provider[] = [
    {
      provide: LOADED_CONFIGURATION,
      useFactory: (options: ConfigurationModuleOptions) =>
        new LoadedConfiguration(
          RawSources.read(validateConfigurationOptions(options)),
          definitions,
        ),
      inject: [CONFIGURATION_MODULE_OPTIONS],
    },
    ConfigurationService,
    {
      // @nestjs/config's ConfigService over the validated tree: config.get('http.port', { infer: true }).
      provide: ConfigService,
      useFactory: (loaded: LoadedConfiguration) => new ConfigService(loaded.values),
      inject: [LOADED_CONFIGURATION],
    },
    ...namespaceProviders,
  ];
  return extendModule(module, {
    providers,
    exports: [
      LOADED_CONFIGURATION,
      ConfigurationService,
      ConfigService,
      ...definitions.map((d) => d.KEY),
    ],
  });
}

/**
 * Typed, validated configuration on top of @nestjs/config. Reads defaults < `.env` <
 * `.env.<NODE_ENV>` < process env < `<VAR>_FILE`, decrypts `enc:v1:` values and validates every
 * registered namespace once at boot; a bad value fails the boot with every problem listed.
 */
@Module({})
export class ConfigurationModule extends ConfigurableModuleClass {
  static override forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return withConfigProviders(super.forRoot(options), options.definitions ?? []);
  }

  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return withConfigProviders(super.forRootAsync(options), options.definitions ?? []);
  }

  /**
   * Provides one more namespace from a feature module (validated when that module is created).
   * Needs `ConfigurationModule.forRoot` (global) in the application.
   */
  static forFeature(definition: ConfigDefinition): DynamicModule {
    return {
      module: ConfigurationModule,
      providers: [namespaceProvider(definition)],
      exports: [definition.KEY],
    };
  }
}
