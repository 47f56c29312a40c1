import { Inject } from '@nestjs/common';
import { httpClientToken } from '../http-client.constants.js';

/**
 * Injects the `HttpClient` named `name` of `HttpClientModule` (with `forRootAsync`, list the
 * name in `clientNames`).
 * @example constructor(@InjectHttpClient('payments') private readonly payments: HttpClient) {}
 */
export function InjectHttpClient(name: string): ParameterDecorator & PropertyDecorator {
  return Inject(httpClientToken(name));
}
