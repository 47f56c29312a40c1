import { STATUS_CODES } from 'node:http';

/** An RFC 9457 problem details body. */
export interface ProblemDetails {
  /** URI identifying the problem type; `about:blank` when the status says it all. */
  type: string;
  title: string;
  status: number;
  detail?: string;
  /** The request path that produced it. */
  instance?: string;
  /** Field-level validation errors. */
  errors?: ProblemFieldError[];
  /** The request's correlation id, to quote in bug reports. */
  correlationId?: string;
  [extension: string]: unknown;
}

/** One invalid input: where (JSON pointer into the request) and what is wrong. */
export interface ProblemFieldError {
  /** JSON pointer, e.g. `/body/quantity` or `/query/limit`. */
  pointer: string;
  detail: string;
}

/** Content type of problem bodies. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Builds a problem body for a status code. */
export function problem(status: number, fields: Partial<ProblemDetails> = {}): ProblemDetails {
  return {
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    ...fields,
  };
}
