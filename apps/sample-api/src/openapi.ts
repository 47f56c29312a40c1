// The @nestjs/swagger decorators the sample uses, deferred: each records where it was put, and
// loadOpenApi() imports @nestjs/swagger and applies them in the order TypeScript ran them. The app
// loads the package (~500 modules with its dependencies) only when it serves /docs, not at every
// start (docs are off by default in production).
import type * as Swagger from '@nestjs/swagger';

type SwaggerPackage = typeof Swagger;
type Decorator = (
  target: object,
  key?: string | symbol,
  descriptor?: PropertyDescriptor,
) => unknown;
type DecoratorName =
  | 'ApiBadRequestResponse'
  | 'ApiBearerAuth'
  | 'ApiConflictResponse'
  | 'ApiCreatedResponse'
  | 'ApiForbiddenResponse'
  | 'ApiHeader'
  | 'ApiHideProperty'
  | 'ApiNotFoundResponse'
  | 'ApiOkResponse'
  | 'ApiParam'
  | 'ApiProperty'
  | 'ApiPropertyOptional'
  | 'ApiTags'
  | 'ApiUnauthorizedResponse';

interface Application {
  name: DecoratorName;
  args: unknown[];
  target: object;
  key?: string | symbol;
  method: boolean;
}

const pending: Application[] = [];
let loaded: SwaggerPackage | undefined;
let loading: Promise<SwaggerPackage> | undefined;

function apply(swagger: SwaggerPackage, a: Application): void {
  const decorator = (swagger[a.name] as (...args: unknown[]) => Decorator)(...a.args);
  if (a.key === undefined) decorator(a.target);
  // the method as it is now (a later decorator may have replaced it): what the scanner reads
  else if (a.method) decorator(a.target, a.key, Object.getOwnPropertyDescriptor(a.target, a.key));
  else decorator(a.target, a.key);
}

function deferred<N extends DecoratorName>(name: N): SwaggerPackage[N] {
  const factory =
    (...args: unknown[]) =>
    (target: object, key?: string | symbol, descriptor?: PropertyDescriptor): void => {
      const a: Application = { name, args, target, key, method: typeof descriptor === 'object' };
      if (loaded) apply(loaded, a);
      else pending.push(a);
    };
  return factory as unknown as SwaggerPackage[N];
}

/** Imports @nestjs/swagger and applies every OpenAPI decorator recorded so far (once). */
export function loadOpenApi(): Promise<SwaggerPackage> {
  loading ??= import('@nestjs/swagger').then((swagger) => {
    for (const a of pending.splice(0)) apply(swagger, a);
    loaded = swagger;
    return swagger;
  });
  return loading;
}

export const ApiBadRequestResponse = deferred('ApiBadRequestResponse');
export const ApiBearerAuth = deferred('ApiBearerAuth');
export const ApiConflictResponse = deferred('ApiConflictResponse');
export const ApiCreatedResponse = deferred('ApiCreatedResponse');
export const ApiForbiddenResponse = deferred('ApiForbiddenResponse');
export const ApiHeader = deferred('ApiHeader');
export const ApiHideProperty = deferred('ApiHideProperty');
export const ApiNotFoundResponse = deferred('ApiNotFoundResponse');
export const ApiOkResponse = deferred('ApiOkResponse');
export const ApiParam = deferred('ApiParam');
export const ApiProperty = deferred('ApiProperty');
export const ApiPropertyOptional = deferred('ApiPropertyOptional');
export const ApiTags = deferred('ApiTags');
export const ApiUnauthorizedResponse = deferred('ApiUnauthorizedResponse');
