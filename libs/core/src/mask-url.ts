/**
 * Masks the password of a URL: `postgres://app:***@db:5432/app`. Non-URLs are returned as they
 * are. For connection URLs in errors and logs (Redis, brokers, databases, configuration dumps).
 */
export function maskUrlPassword(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
}
