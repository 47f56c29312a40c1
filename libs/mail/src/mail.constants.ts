/** The resolved options (`ResolvedMailOptions`). */
export const MAIL_OPTIONS = 'MAIL:OPTIONS';

/** Name of the mail health check. */
export const MAIL_HEALTH_CHECK = 'mail';
