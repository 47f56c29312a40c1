import { BadRequestException, ValidationPipe, type ValidationError } from '@nestjs/common';
import type { ProblemFieldError } from './problem-details.js';

function flatten(
  errors: readonly ValidationError[],
  prefix: string,
  out: ProblemFieldError[],
): void {
  for (const error of errors) {
    const pointer = `${prefix}/${error.property}`;
    for (const detail of Object.values(error.constraints ?? {})) out.push({ pointer, detail });
    if (error.children?.length) flatten(error.children, pointer, out);
  }
}

/**
 * The global validation pipe: class-validator DTOs, unknown properties rejected, payloads
 * transformed to DTO instances. Failures become a 400 problem with one entry per invalid field
 * (`{ pointer: '/quantity', detail: 'quantity must not be less than 1' }`).
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    exceptionFactory: (errors) => {
      const fields: ProblemFieldError[] = [];
      flatten(errors, '', fields);
      return new BadRequestException({ detail: 'Request validation failed', errors: fields });
    },
  });
}
