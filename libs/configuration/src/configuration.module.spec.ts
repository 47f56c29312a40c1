import { Inject, Injectable, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import {
  appConfig,
  ConfigurationModule,
  ConfigurationService,
  ConfigValidationError,
  httpConfig,
  InjectConfig,
  type ConfigOf,
  type ConfigurationModuleOptions,
} from '@infrastructure/configuration';
import { cfg, defineConfig } from './config-definition.js';

const env = { PORT: '4100', HTTP_ADAPTER: 'fastify', NODE_ENV: 'test' };
const definitions = [appConfig, httpConfig];

@Injectable()
class UsesConfig {
  constructor(
    @InjectConfig(httpConfig) readonly http: ConfigOf<typeof httpConfig>,
    readonly config: ConfigurationService,
    readonly nestConfig: ConfigService,
  ) {}
}

@Injectable()
class OptionsFactory {
  createConfigurationOptions(): ConfigurationModuleOptions {
    return { env, envFiles: false };
  }
}

@Module({ providers: [OptionsFactory], exports: [OptionsFactory] })
class OptionsModule {}

async function resolve(root: ReturnType<typeof ConfigurationModule.forRoot>) {
  const ref = await Test.createTestingModule({
    imports: [root],
    providers: [UsesConfig],
  }).compile();
  const uses = ref.get(UsesConfig);
  await ref.close();
  return uses;
}

function expectWired(uses: UsesConfig): void {
  expect(uses.http).toEqual({ port: 4100, host: '0.0.0.0', adapter: 'fastify' });
  expect(uses.config.get(appConfig).nodeEnv).toBe('test');
  expect(uses.nestConfig.get('http.port')).toBe(4100);
}

describe('ConfigurationModule', () => {
  it('forRoot provides typed namespaces, ConfigurationService and @nestjs/config ConfigService', async () => {
    expectWired(await resolve(ConfigurationModule.forRoot({ definitions, env, envFiles: false })));
  });

  it('forRootAsync with useFactory', async () => {
    expectWired(
      await resolve(
        ConfigurationModule.forRootAsync({
          definitions,
          useFactory: async () => ({ env, envFiles: false }),
        }),
      ),
    );
  });

  it('forRootAsync with useClass', async () => {
    expectWired(
      await resolve(ConfigurationModule.forRootAsync({ definitions, useClass: OptionsFactory })),
    );
  });

  it('forRootAsync with useExisting', async () => {
    expectWired(
      await resolve(
        ConfigurationModule.forRootAsync({
          definitions,
          imports: [OptionsModule],
          useExisting: OptionsFactory,
        }),
      ),
    );
  });

  it('is global by default so feature modules inject config without importing it', async () => {
    @Module({ providers: [UsesConfig], exports: [UsesConfig] })
    class Feature {}
    const ref = await Test.createTestingModule({
      imports: [ConfigurationModule.forRoot({ definitions, env, envFiles: false }), Feature],
    }).compile();
    expect(ref.get(UsesConfig).http.port).toBe(4100);
    await ref.close();
  });

  it('forFeature adds a namespace validated from the same sources', async () => {
    const extra = defineConfig('extra', {
      size: { env: 'EXTRA_SIZE', ...cfg.int({ default: 1 }) },
    });
    @Injectable()
    class UsesExtra {
      constructor(@Inject(extra.KEY) readonly values: ConfigOf<typeof extra>) {}
    }
    const ref = await Test.createTestingModule({
      imports: [
        ConfigurationModule.forRoot({
          definitions,
          env: { ...env, EXTRA_SIZE: '9' },
          envFiles: false,
        }),
        ConfigurationModule.forFeature(extra),
      ],
      providers: [UsesExtra],
    }).compile();
    expect(ref.get(UsesExtra).values.size).toBe(9);
    await ref.close();
  });

  it('fails the boot listing every bad value', async () => {
    const compile = Test.createTestingModule({
      imports: [
        ConfigurationModule.forRoot({
          definitions,
          env: { PORT: 'abc', NODE_ENV: 'qa' },
          envFiles: false,
        }),
      ],
    }).compile();
    await expect(compile).rejects.toThrow(ConfigValidationError);
    await expect(compile).rejects.toThrow(
      /NODE_ENV: expected one of development, production, test, got "qa"[\s\S]*PORT: expected an integer 1-65535, got "abc"/,
    );
  });

  it('rejects unknown module options naming the key', async () => {
    const compile = Test.createTestingModule({
      imports: [ConfigurationModule.forRoot({ definitions, envDirectory: '.' } as never)],
    }).compile();
    await expect(compile).rejects.toThrow(
      /ConfigurationModule: options: Unrecognized key: "envDirectory"/,
    );
  });
});
