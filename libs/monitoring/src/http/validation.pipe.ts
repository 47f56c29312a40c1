import {
  BadRequestException,
  ValidationPipe,
  type ArgumentMetadata,
  type ValidationError,
} from '@nestjs/common';
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

/** Keys that reach prototypes when copied onto an object: refused wherever they appear. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** How deeply request input may nest before it is refused. */
export const DEFAULT_MAX_INPUT_DEPTH = 32;

const escapePointer = (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1');

/**
 * Walks the input without recursion (a body nested 100,000 levels deep must not overflow the
 * stack here either) and refuses what class-transformer should never see: nesting deeper than
 * `maxDepth`, and prototype keys (`__proto__`, `constructor`, `prototype`) at any level.
 */
function assertSafeInput(value: unknown, maxDepth: number, allowNul: boolean): void {
  const stack: Array<{ value: unknown; depth: number; pointer: string }> = [
    { value, depth: 0, pointer: '' },
  ];
  while (stack.length > 0) {
    const { value: v, depth, pointer } = stack.pop()!;
    if (typeof v === 'string' && !allowNul && v.includes('\0')) {
      throw new BadRequestException({
        detail: 'Request validation failed',
        errors: [{ pointer, detail: 'must not contain NUL characters' }],
      });
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= maxDepth) {
      throw new BadRequestException({
        detail: `Request input is nested too deeply (more than ${maxDepth} levels)`,
      });
    }
    for (const key of Object.keys(v)) {
      const at = `${pointer}/${escapePointer(key)}`;
      if (PROTOTYPE_KEYS.has(key) || (!allowNul && key.includes('\0'))) {
        throw new BadRequestException({
          detail: 'Request validation failed',
          errors: [{ pointer: at, detail: `property ${key} should not exist` }],
        });
      }
      stack.push({ value: (v as Record<string, unknown>)[key], depth: depth + 1, pointer: at });
    }
  }
}

/** The validation pipe that checks the shape of the input before class-transformer copies it. */
class SafeValidationPipe extends ValidationPipe {
  constructor(
    private readonly maxDepth: number,
    private readonly allowNul: boolean,
    options: ConstructorParameters<typeof ValidationPipe>[0],
  ) {
    super(options);
  }

  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type !== 'custom') assertSafeInput(value, this.maxDepth, this.allowNul);
    return super.transform(value, metadata);
  }
}

/** Options of {@link createValidationPipe}. */
export interface ValidationPipeOptions {
  /** Deepest nesting of a body, query or path parameter; deeper → 400. @default 32 */
  maxDepth?: number;
  /**
   * Accept strings (and keys) containing NUL (`\u0000`). PostgreSQL refuses them in text
   * columns, and almost no API means them, so by default they are a 400 naming the field.
   * @default false
   */
  allowNul?: boolean;
}

/**
 * The global validation pipe: class-validator DTOs, unknown properties rejected, payloads
 * transformed to DTO instances. Failures become a 400 problem with one entry per invalid field
 * (`{ pointer: '/quantity', detail: 'quantity must not be less than 1' }`). Before any of that,
 * input nested deeper than `maxDepth`, prototype keys (`__proto__`, `constructor`, `prototype`)
 * and strings with NUL characters are refused with a 400, so class-transformer never recurses
 * into a hostile body and the database never sees what it would refuse with an error.
 */
export function createValidationPipe(options: ValidationPipeOptions = {}): ValidationPipe {
  return new SafeValidationPipe(
    options.maxDepth ?? DEFAULT_MAX_INPUT_DEPTH,
    options.allowNul ?? false,
    {
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: false,
      exceptionFactory: (errors) => {
        const fields: ProblemFieldError[] = [];
        flatten(errors, '', fields);
        return new BadRequestException({ detail: 'Request validation failed', errors: fields });
      },
    },
  );
}
