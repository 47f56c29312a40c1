import type { DynamicModule, ModuleMetadata } from '@nestjs/common';

/**
 * `module` (what a `ConfigurableModuleBuilder`'s `forRoot`/`forRootAsync` made) with more
 * imports, controllers, providers and exports appended: how every lib's module adds its own
 * providers next to the options provider.
 */
export function extendModule(
  module: DynamicModule,
  add: Pick<ModuleMetadata, 'imports' | 'controllers' | 'providers' | 'exports'>,
): DynamicModule {
  return {
    ...module,
    imports: [...(module.imports ?? []), ...(add.imports ?? [])],
    controllers: [...(module.controllers ?? []), ...(add.controllers ?? [])],
    providers: [...(module.providers ?? []), ...(add.providers ?? [])],
    exports: [...(module.exports ?? []), ...(add.exports ?? [])],
  };
}
