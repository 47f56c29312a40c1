export {
  createTestApp,
  type CreateTestAppOptions,
  type ProviderOverride,
  type TestApp,
} from './create-test-app.js';
