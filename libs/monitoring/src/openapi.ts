import { loadOptional } from '@infrastructure/core';

// @nestjs/swagger is an optional peer: the health routes are documented (and /metrics hidden) in
// the app's OpenAPI document when the app has it, and nothing is loaded when it does not.
interface Swagger {
  ApiTags(...tags: string[]): ClassDecorator;
  ApiExcludeController(disable?: boolean): ClassDecorator;
  ApiOkResponse(options: { description: string }): MethodDecorator;
  ApiServiceUnavailableResponse(options: { description: string }): MethodDecorator;
}

const swagger = await loadOptional<Swagger>('@nestjs/swagger');
const none = (): ClassDecorator & MethodDecorator => () => undefined;

export const ApiTags = (...tags: string[]): ClassDecorator => swagger?.ApiTags(...tags) ?? none();
export const ApiExcludeController = (): ClassDecorator => swagger?.ApiExcludeController() ?? none();
export const ApiOkResponse = (options: { description: string }): MethodDecorator =>
  swagger?.ApiOkResponse(options) ?? none();
export const ApiServiceUnavailableResponse = (options: { description: string }): MethodDecorator =>
  swagger?.ApiServiceUnavailableResponse(options) ?? none();
