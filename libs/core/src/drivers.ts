/** An optional driver is not installed; the message has the exact `npm install` line. */
export class MissingDependencyError extends Error {
  override readonly name = 'MissingDependencyError';
  constructor(
    readonly packageName: string,
    feature: string,
  ) {
    super(`${feature} needs "${packageName}". Run: npm install ${packageName}`);
  }
}

function isModuleNotFound(error: unknown, pkg: string): boolean {
  const e = error as { code?: string; message?: string };
  return (
    (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') &&
    typeof e.message === 'string' &&
    e.message.includes(pkg)
  );
}

/**
 * Loads an optional driver, or throws {@link MissingDependencyError} with the exact
 * `npm install` line. A driver that is installed but broken rethrows its own error.
 */
export async function loadDriver<T = unknown>(
  pkg: string,
  feature: string,
  importer: (pkg: string) => Promise<unknown> = (p) => import(p),
): Promise<T> {
  try {
    return (await importer(pkg)) as T;
  } catch (error) {
    if (isModuleNotFound(error, pkg)) throw new MissingDependencyError(pkg, feature);
    throw error;
  }
}

/**
 * Loads an optional integration that only adds to a feature (e.g. OpenAPI decorators when the app
 * has `@nestjs/swagger`): `undefined` when it is not installed. One that is installed but broken
 * rethrows its own error.
 */
export async function loadOptional<T = unknown>(
  pkg: string,
  importer: (pkg: string) => Promise<unknown> = (p) => import(p),
): Promise<T | undefined> {
  try {
    return (await importer(pkg)) as T;
  } catch (error) {
    if (isModuleNotFound(error, pkg)) return undefined;
    throw error;
  }
}
