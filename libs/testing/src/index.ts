export {
  createTestApp,
  type CreateTestAppOptions,
  type ProviderOverride,
  type TestApp,
} from './create-test-app.js';
export { bootTestingModule } from './boot-testing-module.js';
export { seed, TestDatabase, type TestDatabaseOptions } from './test-database.js';
export { MockEventBus } from './mock-event-bus.js';
export { MessagingTestHarness } from './messaging-test-harness.js';
export { testMonitoringOptions } from './test-monitoring.js';
export { TcpProxy } from './tcp-proxy.js';
export { LogCapture } from './log-capture.js';
export { TestHttpServer, type SeenRequest } from './test-http-server.js';
export { kubeletWrite } from './kubelet-write.js';
export { RedisServer } from './redis-server.js';
export {
  RotatingRedisPassword,
  type RotatingRedisPasswordOptions,
  type SecretChangeSource,
} from './rotating-redis-password.js';
