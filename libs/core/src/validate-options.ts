import type { z } from 'zod';

/**
 * Validates a module's options with a zod schema; on failure throws `errorClass` with
 * `<Module>: options.<path>: <what is wrong><hint>` (the first problem), so a bad option names its key.
 */
export function validateModuleOptions<S extends z.ZodType>(
  moduleName: string,
  schema: S,
  options: unknown,
  errorClass: new (message: string) => Error = TypeError,
  hint: (path: readonly PropertyKey[]) => string = () => '',
): z.output<S> {
  const parsed = schema.safeParse(options);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = ['options', ...issue.path.map(String)].join('.');
  throw new errorClass(`${moduleName}: ${path}: ${issue.message}${hint(issue.path)}`);
}
