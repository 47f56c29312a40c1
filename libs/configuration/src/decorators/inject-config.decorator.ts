import { Inject } from '@nestjs/common';
import type { ConfigDefinition } from '../config-definition.js';

/**
 * Injects the typed values of a config namespace.
 *
 * @example
 * constructor(@InjectConfig(httpConfig) private readonly http: ConfigOf<typeof httpConfig>) {}
 */
export const InjectConfig = (
  definition: ConfigDefinition,
): PropertyDecorator & ParameterDecorator => Inject(definition.KEY);
