import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { MailMessageError } from './errors.js';
import type { MailMessage } from './mail-sender.js';

/** A message checked and completed (sender, Message-ID) before any adapter sees it. */
export interface PreparedMail extends MailMessage {
  from: string;
  /** `<uuid@sender-domain>`: fixed before the first attempt so retries send the same Message-ID. */
  messageId: string;
}

const NO_CRLF = /^[^\r\n]*$/;
const line = (what: string) => z.string().regex(NO_CRLF, `${what} must not contain CR or LF`);
const addressSchema = line('an address').min(3, 'must be an address').max(998);
const recipients = z.union([addressSchema, z.array(addressSchema).min(1, 'must not be empty')]);

const schema = z
  .object({
    from: addressSchema,
    to: recipients.optional(),
    cc: recipients.optional(),
    bcc: recipients.optional(),
    replyTo: recipients.optional(),
    subject: line('the subject').max(998),
    text: z.string().optional(),
    html: z.string().optional(),
    headers: z
      .record(
        z.string().regex(/^[!-9;-~]+$/, 'header names are printable ASCII without ":"'),
        line('a header value').max(998),
      )
      .optional(),
    attachments: z
      .array(
        z
          .object({
            filename: line('a filename').min(1).max(255),
            content: z.union([z.string(), z.instanceof(Buffer)]),
            contentType: line('a content type').optional(),
          })
          .strict(),
      )
      .optional(),
  })
  .strict()
  .refine((m) => m.to !== undefined || m.cc !== undefined || m.bcc !== undefined, {
    message: 'needs at least one recipient (to, cc or bcc)',
    path: ['to'],
  })
  .refine((m) => m.text !== undefined || m.html !== undefined, {
    message: 'needs a body (text or html)',
    path: ['text'],
  });

/** The domain of an address (`"Shop" <no-reply@shop.example>` → `shop.example`), `localhost` when none. */
export function domainOf(from: string): string {
  const domain = /@([^\s>@]+)>?\s*$/.exec(from)?.[1]?.toLowerCase();
  return domain && /^[a-z0-9.-]+$/.test(domain) ? domain : 'localhost';
}

/** A new `Message-ID` for a message from `from`. */
export function newMessageId(from: string): string {
  return `<${randomUUID()}@${domainOf(from)}>`;
}

/**
 * Validates `message` (throws `MailMessageError` naming the field: `mail message: to: needs at
 * least one recipient…`) and fills in the sender and a Message-ID.
 */
export function prepareMail(message: MailMessage, defaultFrom: string | undefined): PreparedMail {
  const from = message.from ?? defaultFrom;
  if (from === undefined) {
    throw new MailMessageError(
      'mail message: from: no sender; set message.from or the MailModule option `from` (MAIL_FROM)',
    );
  }
  const withFrom = { ...message, from };
  const parsed = schema.safeParse(withFrom);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new MailMessageError(
      `mail message: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
  }
  return { ...withFrom, messageId: newMessageId(from) };
}

/** The addresses of `to`, `cc` and `bcc`, in that order. */
export function recipientsOf(message: MailMessage): string[] {
  return [message.to, message.cc, message.bcc].flatMap((r) =>
    r === undefined ? [] : Array.isArray(r) ? r : [r],
  );
}

/** The bare address of `"Ann" <ann@example.com>` (`ann@example.com`). */
export function bareAddress(address: string): string {
  return /<([^<>]+)>\s*$/.exec(address)?.[1]?.trim() ?? address.trim();
}
