import { SetMetadata } from '@nestjs/common';

/**
 * Metadata key of routes that need no authentication, shared by the libs: the monitoring lib's
 * health and metrics endpoints carry it, the security lib's `@Public()` sets it and its AuthGuard
 * honours it. It lives here, on the ground floor, so neither lib imports the other for it.
 */
export const PUBLIC_ROUTE = 'infrastructure:public';

/** Marks a route or controller as public (no authentication): `@Public()` of the security lib. */
export const PublicRoute = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);
