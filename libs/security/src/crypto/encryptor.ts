import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  AES_256_GCM,
  aesGcmOpen,
  aesGcmSeal,
  decodeAes256Key,
} from '@infrastructure/configuration';
import { DecryptionError, EncryptionKeyError } from './errors.js';

/** One key of the keyring. Give `key` or `file`. */
export interface EncryptionKeyConfig {
  /** Key id stored in every envelope: letters, digits, `.`, `_`, `-` (1–64 characters). */
  kid: string;
  /** The 32-byte key as base64/base64url (44 characters) or hex (64), or the raw bytes. */
  key?: string | Buffer;
  /** A file holding the key: base64 or hex text (one trailing newline allowed), or 32 raw bytes. */
  file?: string;
}

/** Options of {@link Encryptor}. */
export interface EncryptionOptions {
  /**
   * The keyring: every key decrypts, the active one encrypts. Either a list, or a string
   * `kid:key,kid:key` (base64 or hex keys) as one configuration value holds it.
   * @example [{ kid: '2025-06', file: '/run/secrets/enc-2025-06' }, { kid: '2024-01', key: process.env.OLD_KEY }]
   */
  keys: readonly EncryptionKeyConfig[] | string;
  /** The key that encrypts. @default the first key */
  activeKid?: string;
}

/** Per-call options of {@link Encryptor.encrypt} and {@link Encryptor.decrypt}. */
export interface EncryptOptions {
  /**
   * Associated data: authenticated, not stored. Decryption needs the same value, so binding a
   * value to its context (`'users.email:' + userId`) stops it being copied elsewhere.
   */
  aad?: string | Buffer;
}

const VERSION = 'v1';
const KID = /^[A-Za-z0-9._-]{1,64}$/;
const B64URL = /^[A-Za-z0-9_-]*$/;
const EMPTY = Buffer.alloc(0);

interface Envelope {
  kid: string;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/**
 * Splits `kid:key,kid:key` into keyring entries (a configuration value holding the keyring).
 * @throws EncryptionKeyError naming the entry (never its key) when one is malformed.
 */
export function parseEncryptionKeys(spec: string): EncryptionKeyConfig[] {
  return spec
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part, i) => {
      const colon = part.indexOf(':');
      if (colon <= 0) {
        throw new EncryptionKeyError(
          `encryption keys: entry ${i + 1} must be "<kid>:<base64 or hex key>"`,
        );
      }
      return { kid: part.slice(0, colon), key: part.slice(colon + 1) };
    });
}

function loadKey(config: EncryptionKeyConfig): Buffer {
  const where = `encryption key "${config.kid}"`;
  if ((config.key === undefined) === (config.file === undefined)) {
    throw new EncryptionKeyError(`${where}: give exactly one of key or file`);
  }
  if (Buffer.isBuffer(config.key)) {
    if (config.key.length !== AES_256_GCM.keyBytes) {
      throw new EncryptionKeyError(`${where}: must be 32 bytes, got ${config.key.length}`);
    }
    return Buffer.from(config.key);
  }
  let text: string;
  let raw: Buffer | undefined;
  if (config.file !== undefined) {
    try {
      raw = readFileSync(config.file);
    } catch (error) {
      throw new EncryptionKeyError(
        `${where}: cannot read file ${config.file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    text = raw.toString('utf8').replace(/\r?\n$/, '');
  } else {
    text = config.key!;
  }
  const key = decodeAes256Key(text) ?? (raw?.length === AES_256_GCM.keyBytes ? raw : undefined);
  if (!key) {
    throw new EncryptionKeyError(
      `${where}${config.file ? ` (file ${config.file})` : ''}: must be 32 bytes as base64 or hex ` +
        `(make one with Encryptor.generateKey())`,
    );
  }
  return key;
}

function malformed(why: string): DecryptionError {
  return new DecryptionError('malformed', `cannot decrypt: not a v1 envelope (${why})`);
}

function toBytes(value: string | Buffer | undefined): Buffer {
  if (value === undefined) return EMPTY;
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

/**
 * Authenticated encryption of values (field-level encryption, tokens at rest) with AES-256-GCM,
 * the same primitive as the configuration lib's `enc:v1:` values. Output is one ASCII string:
 *
 * `v1:<kid>:<iv>:<ciphertext>:<tag>` (parts base64url; the header `v1:<kid>` is authenticated too)
 *
 * A keyring holds several keys by id: the active one encrypts, all of them decrypt, so keys are
 * rotated without downtime: add the new key and make it active ({@link rotate}), re-encrypt stored
 * values in the background ({@link reencrypt}), then drop the old key.
 *
 * Works standalone (`new Encryptor(options)`) or as a Nest provider built from options.
 *
 * @example
 * const enc = new Encryptor({ keys: 'k2:' + process.env.KEY_2 + ',k1:' + process.env.KEY_1 });
 * const stored = enc.encrypt('4111 1111 1111 1111', { aad: `cards:${userId}` });
 * enc.decrypt(stored, { aad: `cards:${userId}` });
 */
@Injectable()
export class Encryptor {
  private readonly keys = new Map<string, Buffer>();
  private active: string;

  constructor(options: EncryptionOptions) {
    const entries =
      typeof options.keys === 'string' ? parseEncryptionKeys(options.keys) : options.keys;
    if (entries.length === 0) {
      throw new EncryptionKeyError(
        'Encryptor: no keys configured (give at least one 32-byte key; make one with Encryptor.generateKey())',
      );
    }
    for (const entry of entries) this.addKey(entry);
    this.active = options.activeKid ?? entries[0]!.kid;
    if (!this.keys.has(this.active)) {
      throw new EncryptionKeyError(
        `Encryptor: activeKid "${this.active}" is not in the keyring (${this.kids.join(', ')})`,
      );
    }
  }

  /** A fresh random 256-bit key, base64: what to put in a key file or variable. */
  static generateKey(): string {
    return randomBytes(AES_256_GCM.keyBytes).toString('base64');
  }

  /** True when `value` looks like an envelope of this format (no decryption attempted). */
  static isEnvelope(value: unknown): value is string {
    return (
      typeof value === 'string' && value.startsWith(`${VERSION}:`) && value.split(':').length === 5
    );
  }

  /** The id of the key that encrypts. */
  get activeKid(): string {
    return this.active;
  }

  /** Every key id in the keyring. */
  get kids(): string[] {
    return [...this.keys.keys()];
  }

  /**
   * Adds a key (decrypts from now on; does not become active).
   * @throws EncryptionKeyError for a bad kid, a bad key or a kid already present with another key.
   */
  addKey(config: EncryptionKeyConfig): void {
    if (!KID.test(config.kid)) {
      throw new EncryptionKeyError(
        `encryption key id "${config.kid}" must be 1-64 letters, digits, ".", "_" or "-"`,
      );
    }
    const key = loadKey(config);
    const existing = this.keys.get(config.kid);
    if (existing && !existing.equals(key)) {
      throw new EncryptionKeyError(
        `encryption key id "${config.kid}" is already in the keyring with another key`,
      );
    }
    this.keys.set(config.kid, key);
  }

  /**
   * Makes a key the active one: an existing kid, or a new key that is added first. Values
   * encrypted before still decrypt with their own key.
   */
  rotate(to: string | EncryptionKeyConfig): void {
    const kid = typeof to === 'string' ? to : to.kid;
    if (typeof to !== 'string') this.addKey(to);
    if (!this.keys.has(kid)) {
      throw new EncryptionKeyError(`cannot rotate to unknown encryption key id "${kid}"`);
    }
    this.active = kid;
  }

  /** Removes a retired key: values still encrypted with it no longer decrypt. */
  removeKey(kid: string): void {
    if (kid === this.active) {
      throw new EncryptionKeyError(
        `cannot remove the active encryption key "${kid}"; rotate first`,
      );
    }
    this.keys.delete(kid);
  }

  /** Encrypts with the active key under a fresh random IV. */
  encrypt(plaintext: string | Buffer, options: EncryptOptions = {}): string {
    const kid = this.active;
    const sealed = aesGcmSeal(this.keys.get(kid)!, plaintext, this.aad(kid, options.aad));
    return `${VERSION}:${kid}:${sealed.iv.toString('base64url')}:${sealed.ciphertext.toString('base64url')}:${sealed.tag.toString('base64url')}`;
  }

  /**
   * Decrypts an envelope made by {@link encrypt} (with any key of the keyring) as UTF-8 text.
   * @throws DecryptionError when it is malformed, its key is unknown, or authentication fails
   *   (wrong key, wrong `aad`, tampered bytes).
   */
  decrypt(envelope: string, options: EncryptOptions = {}): string {
    return this.decryptBytes(envelope, options).toString('utf8');
  }

  /** Like {@link decrypt}, returning the raw bytes. */
  decryptBytes(envelope: string, options: EncryptOptions = {}): Buffer {
    const parsed = this.parse(envelope);
    const key = this.keys.get(parsed.kid);
    if (!key) {
      throw new DecryptionError(
        'unknown-key',
        `cannot decrypt: key id "${parsed.kid}" is not in the keyring (${this.kids.join(', ')})`,
      );
    }
    try {
      return aesGcmOpen(key, parsed, this.aad(parsed.kid, options.aad));
    } catch {
      throw new DecryptionError(
        'authentication',
        `cannot decrypt: authentication failed with key "${parsed.kid}" (wrong key, wrong associated data, or tampered value)`,
      );
    }
  }

  /** True when `envelope` was encrypted with another key than the active one. */
  needsReencrypt(envelope: string): boolean {
    return this.parse(envelope).kid !== this.active;
  }

  /**
   * Re-encrypts a value with the active key (after a rotation); returns it unchanged when it is
   * already under the active key. The same `aad` is used for both sides.
   */
  reencrypt(envelope: string, options: EncryptOptions = {}): string {
    if (!this.needsReencrypt(envelope)) {
      // Still authenticate: a re-encryption job must not bless a tampered value.
      this.decryptBytes(envelope, options);
      return envelope;
    }
    return this.encrypt(this.decryptBytes(envelope, options), options);
  }

  private aad(kid: string, aad: string | Buffer | undefined): Buffer {
    return Buffer.concat([Buffer.from(`${VERSION}:${kid}:`, 'ascii'), toBytes(aad)]);
  }

  private parse(envelope: string): Envelope {
    if (typeof envelope !== 'string') throw malformed(`got ${typeof envelope}`);
    const parts = envelope.split(':');
    if (parts.length !== 5) throw malformed(`${parts.length} parts, expected 5`);
    const [version, kid, iv, ciphertext, tag] = parts as [string, string, string, string, string];
    if (version !== VERSION) throw malformed('unknown version');
    if (!KID.test(kid)) throw malformed('bad key id');
    if (![iv, ciphertext, tag].every((p) => B64URL.test(p))) throw malformed('not base64url');
    const out = {
      kid,
      iv: Buffer.from(iv, 'base64url'),
      ciphertext: Buffer.from(ciphertext, 'base64url'),
      tag: Buffer.from(tag, 'base64url'),
    };
    if (out.iv.length !== AES_256_GCM.ivBytes) throw malformed('bad IV length');
    if (out.tag.length !== AES_256_GCM.tagBytes) throw malformed('bad tag length');
    return out;
  }
}
