import { HealthDegradedError, type HealthRegistry } from '@infrastructure/monitoring';
import type { OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { MAIL_HEALTH_CHECK } from './mail.constants.js';
import type { MailSender } from './mail-sender.js';
import { SmtpMailSender } from './senders/smtp-mail.sender.js';

/**
 * Registers the `mail` check of an SMTP sender: the breaker state (open → `degraded`) and an SMTP
 * `verify()` (connect, greet, authenticate on a fresh connection) within `healthTimeoutMs`,
 * reused for `healthCacheMs` so readiness probes do not open a connection each. Failing →
 * `degraded` (200), or 503 with `healthCritical`. Returns the unregister function.
 */
export function registerMailHealth(registry: HealthRegistry, sender: SmtpMailSender): () => void {
  const o = sender.options;
  let last: { at: number; result: Promise<void> } | undefined;
  registry.register(
    MAIL_HEALTH_CHECK,
    async () => {
      const circuit = sender.circuitState;
      if (circuit === 'open') {
        throw new HealthDegradedError(
          `circuit open: mail to ${sender.server} fails fast until a probe succeeds`,
          { circuit, server: sender.server },
        );
      }
      const now = Date.now();
      if (!last || now - last.at >= o.healthCacheMs) {
        const result = sender.verify();
        result.catch(() => undefined); // awaited below; a check that timed out must not leak it
        last = { at: now, result };
      }
      await last.result;
      return { circuit, server: sender.server };
    },
    { critical: o.healthCritical, timeoutMs: o.healthTimeoutMs },
  );
  return () => registry.unregister(MAIL_HEALTH_CHECK);
}

/** Registers `mail` at init when the sender is the SMTP one, unregisters at shutdown. @internal */
export class MailHealth implements OnModuleInit, OnApplicationShutdown {
  private unregister?: () => void;

  constructor(
    private readonly sender: MailSender,
    private readonly registry: HealthRegistry | undefined,
  ) {}

  onModuleInit(): void {
    if (this.registry && this.sender instanceof SmtpMailSender) {
      this.unregister = registerMailHealth(this.registry, this.sender);
    }
  }

  onApplicationShutdown(): void {
    this.unregister?.();
    this.unregister = undefined;
  }
}
