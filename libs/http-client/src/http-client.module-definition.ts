import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { HttpClientModuleExtras, HttpClientModuleOptions } from './http-client.options.js';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: HTTP_CLIENT_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<HttpClientModuleOptions>({ moduleName: 'HttpClient' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createHttpClientModuleOptions')
  .setExtras<HttpClientModuleExtras>({ isGlobal: true, clientNames: [] }, (def, extras) => ({
    ...def,
    global: extras.isGlobal,
  }))
  .build();
