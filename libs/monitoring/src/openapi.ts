// The health routes are documented (and /metrics hidden) in the app's OpenAPI document when the app
// has @nestjs/swagger. These four write the metadata @nestjs/swagger's decorators of the same name
// write (its `swagger/*` keys, checked against it in openapi.spec.ts), so the package is not loaded
// for them: an app that builds its document on demand, or has none, does not load it at boot.

const API_TAGS = 'swagger/apiUseTags';
const API_EXCLUDE_CONTROLLER = 'swagger/apiExcludeController';
const API_RESPONSE = 'swagger/apiResponse';

interface ResponseEntry {
  description?: string;
  examples?: Record<string, unknown>;
  [key: string]: unknown;
}

function mergeResponseEntry(existing: ResponseEntry | undefined, incoming: ResponseEntry) {
  if (!existing) return incoming;
  const existingDesc = existing.description || '';
  const incomingDesc = incoming.description || '';
  const description =
    existingDesc && incomingDesc
      ? `${existingDesc}\n\n${incomingDesc}`
      : existingDesc || incomingDesc;
  const examples =
    existing.examples && incoming.examples
      ? { ...existing.examples, ...incoming.examples }
      : (incoming.examples ?? existing.examples);
  return { ...existing, ...incoming, description, ...(examples !== undefined ? { examples } : {}) };
}

interface ResponseOptions {
  description: string;
  schema?: object;
}

function responseDecorator(status: number, options: ResponseOptions): MethodDecorator {
  return (_target, _key, descriptor) => {
    const method = descriptor.value as object;
    const responses = Reflect.getMetadata(API_RESPONSE, method) as
      Record<string, ResponseEntry> | undefined;
    const incoming: ResponseEntry = {
      ...options,
      description: options.description || '',
      type: undefined,
      isArray: undefined,
    };
    Reflect.defineMetadata(
      API_RESPONSE,
      { ...responses, [status]: mergeResponseEntry(responses?.[status], incoming) },
      method,
    );
    return descriptor;
  };
}

export const ApiTags =
  (...tags: string[]): ClassDecorator =>
  (target) => {
    const previous = (Reflect.getMetadata(API_TAGS, target) as string[] | undefined) ?? [];
    Reflect.defineMetadata(API_TAGS, [...previous, ...tags], target);
    return target;
  };

export const ApiExcludeController = (): ClassDecorator => (target) => {
  const previous = (Reflect.getMetadata(API_EXCLUDE_CONTROLLER, target) as boolean[]) ?? [];
  Reflect.defineMetadata(API_EXCLUDE_CONTROLLER, [...previous, true], target);
  return target;
};

export const ApiOkResponse = (options: { description: string }): MethodDecorator =>
  responseDecorator(200, options);

export const ApiServiceUnavailableResponse = (options: { description: string }): MethodDecorator =>
  responseDecorator(503, options);

// What @nestjs/terminus's `@HealthCheck()` documents when @nestjs/swagger is installed (its
// `getHealthCheckSchema`, not exported): the monitoring controller passes it
// `swaggerDocumentation: false`, which keeps it from loading @nestjs/swagger, and adds these.
const DB_EXAMPLE = { database: { status: 'up', responseTime: 12 } };
const REDIS_EXAMPLE = {
  redis: { status: 'down', message: 'Could not connect', responseTime: 3005 },
};
const COMBINED_EXAMPLE = { ...DB_EXAMPLE, ...REDIS_EXAMPLE };

const healthIndicatorSchema = (example: object) => ({
  type: 'object',
  example,
  additionalProperties: {
    type: 'object',
    required: ['status'],
    properties: {
      status: { type: 'string', enum: ['up', 'degraded', 'down'] },
      responseTime: {
        type: 'number',
        description: 'Time the health indicator took to respond, in ms',
      },
    },
    additionalProperties: true,
  },
});

function healthCheckSchema(status: 'ok' | 'error'): object {
  return {
    type: 'object',
    properties: {
      status: {
        type: 'string',
        enum: status === 'error' ? ['error', 'shutting_down'] : ['ok', 'degraded'],
        example: status,
      },
      info: { ...healthIndicatorSchema(DB_EXAMPLE), nullable: true },
      error: {
        ...healthIndicatorSchema(status === 'error' ? REDIS_EXAMPLE : {}),
        nullable: true,
      },
      details: healthIndicatorSchema(status === 'error' ? COMBINED_EXAMPLE : DB_EXAMPLE),
    },
  };
}

/** The responses terminus's `@HealthCheck()` documents (put it where `@HealthCheck()` is). */
export const HealthCheckResponses = (): MethodDecorator => (target, key, descriptor) => {
  responseDecorator(503, {
    description: 'The Health Check is not successful',
    schema: healthCheckSchema('error'),
  })(target, key, descriptor);
  responseDecorator(200, {
    description: 'The Health Check is successful',
    schema: healthCheckSchema('ok'),
  })(target, key, descriptor);
  return descriptor;
};
