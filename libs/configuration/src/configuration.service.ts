import { Inject, Injectable } from '@nestjs/common';
import type { ConfigDefinition, ConfigOf } from './config-definition.js';
import { LOADED_CONFIGURATION } from './configuration.constants.js';
import type { ConfigEntry, LoadedConfiguration } from './load-configuration.js';

/** Typed access to the configuration validated at boot, and a safe dump for operators. */
@Injectable()
export class ConfigurationService {
  constructor(@Inject(LOADED_CONFIGURATION) private readonly loaded: LoadedConfiguration) {}

  /** The typed values of a namespace: `config.get(httpConfig).port`. */
  get<D extends ConfigDefinition>(definition: D): ConfigOf<D> {
    return this.loaded.get(definition);
  }

  /** The effective configuration, secrets as `***` and URL passwords masked. */
  toSafeJSON(): Record<string, Record<string, unknown>> {
    return this.loaded.toSafeJSON();
  }

  /** Each value with its source (default, .env file, env, secret file). Values of secrets included: do not log. */
  describe(): readonly ConfigEntry[] {
    return this.loaded.describe();
  }

  /** The NODE_ENV in force. */
  get nodeEnv(): string | undefined {
    return this.loaded.nodeEnv;
  }
}
