import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import { PublicRoute } from '@infrastructure/core';
import type { Principal } from './principal.js';

export const REQUIRED_SCOPES = 'security:scopes';
export const REQUIRED_ROLES = 'security:roles';

/**
 * The route (or every route of the controller) needs no authentication; the AuthGuard does not
 * look at credentials there (`@CurrentUser()` is undefined).
 */
export const Public = PublicRoute;

/** The token must carry **every** listed scope (403 `insufficient_scope` otherwise). */
export const Scopes = (...scopes: string[]): MethodDecorator & ClassDecorator =>
  SetMetadata(REQUIRED_SCOPES, scopes);

/** The principal must have **one** of the listed roles (403 otherwise). */
export const Roles = (...roles: string[]): MethodDecorator & ClassDecorator =>
  SetMetadata(REQUIRED_ROLES, roles);

/** The request's principal (undefined on public routes without credentials). */
export const CurrentUser = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Principal | undefined =>
    ctx.switchToHttp().getRequest<{ principal?: Principal }>().principal,
);
