import type { ModuleMetadata } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';

/**
 * Compiles and initialises a Nest testing module (no HTTP server): lifecycle hooks run, so a
 * dynamic module's providers are ready to `get()`. Close it with `await moduleRef.close()`.
 * For an app with HTTP, use {@link createTestApp}.
 */
export async function bootTestingModule(metadata: ModuleMetadata): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  return moduleRef.init();
}
