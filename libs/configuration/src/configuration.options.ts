import { z } from 'zod';
import { validateModuleOptions } from '@infrastructure/core';
import type { ConfigDefinition } from './config-definition.js';

/** Options of `ConfigurationModule.forRoot` / the factory of `forRootAsync`. */
export interface ConfigurationModuleOptions {
  /** Environment to read. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** Directory holding `.env` and `.env.<NODE_ENV>`. @default process.cwd() */
  envDir?: string;
  /** Read `.env` and `.env.<NODE_ENV>` files. @default true */
  envFiles?: boolean;
}

/** Extras given to `forRoot` and `forRootAsync` alongside the options. */
export interface ConfigurationModuleExtras {
  /** Make the module global so every module can inject config. @default true */
  isGlobal?: boolean;
  /**
   * The config namespaces to load and validate at boot; each gets an injection token
   * (`@InjectConfig(httpConfig)`). Known statically so `forRootAsync` can provide them too.
   * @default []
   */
  definitions?: readonly ConfigDefinition[];
}

const optionsSchema = z
  .object({
    env: z.record(z.string(), z.string().optional()).optional(),
    envDir: z.string().min(1).optional(),
    envFiles: z.boolean().optional(),
  })
  .strict();

/** Validates module options; throws naming the bad key. */
export function validateConfigurationOptions(
  options: ConfigurationModuleOptions,
): ConfigurationModuleOptions {
  validateModuleOptions('ConfigurationModule', optionsSchema, options ?? {});
  return options ?? {};
}
