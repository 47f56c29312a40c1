// The MailSender port, its SMTP / memory / log adapters, MailModule
export { MailSender, type MailMessage, type MailReceipt } from './mail-sender.js';
export { MailModule } from './mail.module.js';
export type { MailOptions } from './mail.options.js';
export { mailConfig, mailOptionsFrom } from './mail.config.js';
export { MemoryMailSender } from './senders/memory-mail.sender.js';
export {
  MailConfigError,
  MailDeliveryError,
  MailMessageError,
  MailTransientError,
} from './errors.js';
