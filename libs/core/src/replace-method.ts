/**
 * Replaces a decorated method with `wrapped`, keeping what Nest and other decorators read from the
 * function: its reflect-metadata and its name. Used by method decorators such as `@Span()` and
 * `@Transactional()`.
 */
export function replaceMethod(
  descriptor: PropertyDescriptor,
  wrapped: (...args: any[]) => unknown,
): PropertyDescriptor {
  const original = descriptor.value as (...args: unknown[]) => unknown;
  for (const metaKey of Reflect.getMetadataKeys(original)) {
    Reflect.defineMetadata(metaKey, Reflect.getMetadata(metaKey, original), wrapped);
  }
  Object.defineProperty(wrapped, 'name', { value: original.name });
  descriptor.value = wrapped;
  return descriptor;
}
