export { ProblemDetailsFilter } from './http/problem-details.filter.js';
export {
  problem,
  PROBLEM_CONTENT_TYPE,
  type ProblemDetails,
  type ProblemFieldError,
} from './http/problem-details.js';
export { createValidationPipe } from './http/validation.pipe.js';
