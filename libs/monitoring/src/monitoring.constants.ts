/** Injection token of the resolved (validated, defaulted) monitoring options. */
export const MONITORING_OPTIONS = 'MONITORING:OPTIONS';
