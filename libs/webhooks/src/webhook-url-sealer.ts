import { hkdfSync } from 'node:crypto';
import { inspect } from 'node:util';
import { AES_256_GCM, aesGcmOpen, aesGcmSeal } from '@infrastructure/configuration';
import { WebhooksConfigError } from './errors.js';

/** Prefix of a sealed subscription URL in a `WebhookRequested` event. */
export const SEALED_URL_PREFIX = 'whurl:v1:';
const { ivBytes: IV_BYTES, tagBytes: TAG_BYTES } = AES_256_GCM;
const HKDF_INFO = 'infrastructure/webhooks/subscription-url/v1';

/** A URL key derived from a signing key (HKDF-SHA256): used when no `urlEncryptionKey` is set. */
export function derivedUrlKey(signingKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', signingKey, Buffer.alloc(0), HKDF_INFO, 32));
}

/**
 * Seals subscription URLs (AES-256-GCM, bound to the subscription id) so that a URL carrying a
 * token never sits in clear in the outbox table, the broker or the dead letters. Seals with the
 * first key, opens with any (rotation). Printing it shows only how many keys it holds.
 */
export class WebhookUrlSealer {
  readonly #keys: readonly Buffer[];

  constructor(keys: readonly Buffer[]) {
    if (keys.length === 0) throw new RangeError('WebhookUrlSealer needs at least one key');
    this.#keys = keys;
  }

  /** `whurl:v1:<base64url(iv | ciphertext | tag)>` of `url`, bound to `subscriptionId`. */
  seal(url: string, subscriptionId: string): string {
    const { iv, ciphertext, tag } = aesGcmSeal(this.#keys[0]!, url, Buffer.from(subscriptionId));
    return SEALED_URL_PREFIX + Buffer.concat([iv, ciphertext, tag]).toString('base64url');
  }

  /**
   * The URL sealed by {@link seal} for `subscriptionId`.
   * @throws WebhooksConfigError when no key opens it (the keys changed, or it was tampered with).
   */
  open(sealed: string, subscriptionId: string): string {
    const raw = Buffer.from(sealed.slice(SEALED_URL_PREFIX.length), 'base64url');
    if (raw.length >= IV_BYTES + TAG_BYTES) {
      const parts = {
        iv: raw.subarray(0, IV_BYTES),
        ciphertext: raw.subarray(IV_BYTES, raw.length - TAG_BYTES),
        tag: raw.subarray(raw.length - TAG_BYTES),
      };
      for (const key of this.#keys) {
        try {
          return aesGcmOpen(key, parts, Buffer.from(subscriptionId)).toString('utf8');
        } catch {
          // the next key (rotation)
        }
      }
    }
    throw new WebhooksConfigError(
      `WebhookDispatcher: cannot open the sealed URL of subscription ${subscriptionId} (options.urlEncryptionKey or options.secret changed since it was sent?)`,
    );
  }

  toJSON(): string {
    return `[${this.#keys.length} webhook URL key(s)]`;
  }

  [inspect.custom](): string {
    return this.toJSON();
  }
}
