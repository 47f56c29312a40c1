import { Injectable, Optional, Inject } from '@nestjs/common';
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  randomBytes,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { getLogger } from '@infrastructure/monitoring';
import type { Secret } from '../secrets/secret.js';
import type { SecretsProvider } from '../secrets/secrets-provider.js';
import { JwtConfigError } from './errors.js';

/** Signing algorithms the keyring supports: one per key (RFC 8725 §3.1). */
export const JWT_ALGORITHMS = ['HS256', 'RS256', 'ES256', 'EdDSA'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** One configured key. */
export interface JwtKeyConfig {
  /**
   * Key id put in each token's `kid` header.
   * @default the JWK's `kid`, else the RFC 7638 thumbprint of the public key (random for HS256)
   */
  kid?: string;
  /** The one algorithm this key is used with. */
  alg: JwtAlgorithm;
  /**
   * The key: a PEM (private PKCS#8 / PKCS#1 / SEC1, or public SPKI / X.509 certificate; a public
   * key only verifies), a JWK as JSON, or for HS256 the raw secret (at least 32 bytes).
   */
  key?: string;
  /** A file holding `key` (read once, when the key is added). */
  keyFile?: string;
  /**
   * The name of a secret in the keyring's `secrets` holding `key` (`'JWT_PRIVATE_KEY'`: the
   * file of `JWT_PRIVATE_KEY_FILE`, or of a mounted secrets directory). Read at start; each
   * rotation of the secret adds the new key as the signer and retires the replaced one after
   * `rotatedKeyTtlSeconds`. Rotated keys get a derived kid (the JWK's `kid`, else the thumbprint;
   * for HS256 a hash of the secret), the same on every instance.
   */
  secret?: string;
}

/** Options of {@link JwtKeyring}. */
export interface JwtKeyringOptions {
  /**
   * Keys that sign or verify. None → one ephemeral key of `algorithm` is generated (and a warning
   * logged): tokens die with the process, and every instance has its own key.
   * @default []
   */
  keys?: readonly JwtKeyConfig[];
  /**
   * Key id of the signing key.
   * @default the last key of `keys` that has private (or secret) material
   */
  activeKid?: string;
  /**
   * Algorithm of generated keys (no keys configured, or `rotate()` without key material).
   * @default 'ES256'
   */
  algorithm?: JwtAlgorithm;
  /**
   * Whether no `keys` may mean one ephemeral key. In production a per-process key is a defect
   * (a token from one replica fails on the next, every restart logs everyone out), so there the
   * keyring refuses to start without keys unless this says `true`.
   * @default true, except when NODE_ENV=production
   */
  allowEphemeralKey?: boolean;
  /** Where `keys[].secret` are read from, and whose change events rotate them. */
  secrets?: SecretsProvider;
  /**
   * How long a key replaced by a rotated secret keeps verifying before it is retired: the longest
   * lifetime of a token it signed. Unset: kept until `retire(kid)`.
   * @default unset; the JwtManager sets its longest token lifetime (refresh TTL) + clock tolerance
   */
  rotatedKeyTtlSeconds?: number;
}

/** Public facts about a key (never its material). */
export interface JwtKeyInfo {
  readonly kid: string;
  readonly alg: JwtAlgorithm;
  /** Has private or secret material, so it can sign. */
  readonly canSign: boolean;
  readonly active: boolean;
  /** Generated in this process (not configured). */
  readonly ephemeral: boolean;
}

/** A public JWK as published in a JWKS. */
export interface PublicJwk {
  kid: string;
  alg: JwtAlgorithm;
  use: 'sig';
  kty: string;
  [member: string]: unknown;
}

/** Emitted on `keyring.on('change', ...)` (audit "key rotated", caches). */
export interface JwtKeyringChange {
  type: 'added' | 'activated' | 'retired';
  kid: string;
  alg: JwtAlgorithm;
}

/** Injection token of {@link JwtKeyringOptions} (plain `@Injectable()` use without a module). */
export const JWT_KEYRING_OPTIONS = 'SECURITY:JWT_KEYRING_OPTIONS';

interface KeyEntry {
  kid: string;
  alg: JwtAlgorithm;
  verifyKey: KeyObject;
  signKey?: KeyObject;
  ephemeral: boolean;
}

const MIN_HMAC_BYTES = 32;
/** setTimeout's longest delay (about 24.8 days); longer waits are chained. */
const MAX_TIMER_MS = 2_147_483_647;
const MIN_RSA_BITS = 2048;
const KID = /^[\x21-\x7e]{1,128}$/;

/**
 * The keys tokens are signed and verified with: several keys with a `kid` each, one active signer,
 * older keys still verifying until retired. Each key is bound to one algorithm, and a token is
 * only verified with the key its `kid` names, using that key's algorithm (never the header's).
 *
 * @example
 * const ring = new JwtKeyring({ keys: [{ alg: 'ES256', keyFile: '/run/secrets/jwt-key.pem' }] });
 * ring.rotate();              // a new generated ES256 key signs from now on
 * ring.retire(oldKid);        // tokens signed with it no longer verify
 */
@Injectable()
export class JwtKeyring extends EventEmitter<{ change: [JwtKeyringChange] }> {
  private readonly log = getLogger('JwtKeyring');
  private readonly keys = new Map<string, KeyEntry>();
  private algorithmList?: JwtAlgorithm[];
  private revisionValue = 0;
  private activeKidValue!: string;
  private readonly algorithm: JwtAlgorithm;
  /** Secret name → the kid of the key currently loaded from it. */
  private readonly fromSecret = new Map<string, string>();
  private readonly retireTimers = new Map<string, NodeJS.Timeout>();
  private readonly unsubscribe: Array<() => void> = [];
  /** See {@link JwtKeyringOptions.rotatedKeyTtlSeconds}. */
  readonly rotatedKeyTtlSeconds?: number;

  constructor(@Optional() @Inject(JWT_KEYRING_OPTIONS) options: JwtKeyringOptions = {}) {
    super();
    this.algorithm = options.algorithm ?? 'ES256';
    assertAlgorithm(this.algorithm, 'options.algorithm');
    if (options.rotatedKeyTtlSeconds !== undefined) {
      if (!(options.rotatedKeyTtlSeconds >= 0)) {
        throw new JwtConfigError('JwtKeyring: options.rotatedKeyTtlSeconds must be ≥ 0');
      }
      this.rotatedKeyTtlSeconds = options.rotatedKeyTtlSeconds;
    }
    const configured = options.keys ?? [];
    configured.forEach((config, i) => {
      const where = `options.keys[${i}]`;
      if (config.secret === undefined) return this.insert(loadKey(config, where));
      const material = secretMaterial(options.secrets, config.secret, where);
      const entry = loadKey(
        { ...config, key: material, kid: config.kid ?? derivedKid(config.alg, material) },
        where,
      );
      this.insert(entry);
      this.fromSecret.set(config.secret, entry.kid);
    });
    if (configured.length === 0) {
      const allowed = options.allowEphemeralKey ?? process.env.NODE_ENV !== 'production';
      if (!allowed) {
        throw new JwtConfigError(
          'JwtKeyring: no signing key configured and NODE_ENV=production: set JWT_PRIVATE_KEY_FILE ' +
            '(ES256/RS256/EdDSA) or JWT_SECRET (HS256), i.e. options.keys; an ephemeral per-process ' +
            'key needs an explicit JWT_ALLOW_EPHEMERAL_KEY=true (options.allowEphemeralKey)',
        );
      }
      this.insert(generateKey(this.algorithm));
      this.log.warn(
        { kid: this.activeKidValue, alg: this.algorithm },
        'JwtKeyring: no keys configured, using an ephemeral key, tokens die with the process',
      );
    }
    if (options.activeKid !== undefined) {
      const entry = this.keys.get(options.activeKid);
      if (!entry) {
        throw new JwtConfigError(
          `JwtKeyring: options.activeKid "${options.activeKid}" is not one of the configured keys`,
        );
      }
      if (!entry.signKey) {
        throw new JwtConfigError(
          `JwtKeyring: options.activeKid "${options.activeKid}" has no private key, it cannot sign`,
        );
      }
      this.activeKidValue = entry.kid;
    } else {
      const signer = [...this.keys.values()].toReversed().find((k) => k.signKey);
      if (!signer) {
        throw new JwtConfigError(
          'JwtKeyring: none of options.keys has private (or secret) material, nothing can sign',
        );
      }
      this.activeKidValue = signer.kid;
    }
    for (const config of configured) {
      if (config.secret === undefined) continue;
      const { secret: name, alg } = config;
      this.unsubscribe.push(
        options.secrets!.onChange(name, (secret) => this.secretRotated(name, alg, secret)),
      );
    }
  }

  /** Stops following rotated secrets and cancels pending retirements. */
  close(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    for (const timer of this.retireTimers.values()) clearTimeout(timer);
    this.retireTimers.clear();
  }

  /** Nest lifecycle. */
  onModuleDestroy(): void {
    this.close();
  }

  /** The signing key's id. */
  get activeKid(): string {
    return this.activeKidValue;
  }

  /** The signing key's algorithm. */
  get activeAlgorithm(): JwtAlgorithm {
    return this.keys.get(this.activeKidValue)!.alg;
  }

  /**
   * Goes up whenever a key is added or removed: what was verified under an older revision may
   * name a key that is gone (caches of verified tokens compare it on each use).
   */
  get revision(): number {
    return this.revisionValue;
  }

  /** Every key (newest last), without material. */
  list(): JwtKeyInfo[] {
    return [...this.keys.values()].map((k) => this.info(k));
  }

  /** The distinct algorithms of the keys in the ring. */
  algorithms(): JwtAlgorithm[] {
    // Asked on every verify: computed again only when the ring changes.
    return (this.algorithmList ??= [...new Set([...this.keys.values()].map((k) => k.alg))]);
  }

  /** Whether a key with this id is in the ring. */
  has(kid: string): boolean {
    return this.keys.has(kid);
  }

  /** The key and algorithm to verify a token whose header names `kid`; `undefined` if unknown. */
  verificationKey(kid: string): { alg: JwtAlgorithm; key: KeyObject } | undefined {
    const entry = this.keys.get(kid);
    return entry && { alg: entry.alg, key: entry.verifyKey };
  }

  /** The active key with its material, for signing. */
  signingKey(): { kid: string; alg: JwtAlgorithm; key: KeyObject } {
    const entry = this.keys.get(this.activeKidValue)!;
    return { kid: entry.kid, alg: entry.alg, key: entry.signKey! };
  }

  /**
   * The public keys as a JWKS (for `GET /.well-known/jwks.json`). Symmetric (HS256) keys are
   * never included: a ring of HS256 keys only publishes `{ keys: [] }`.
   */
  jwks(): { keys: PublicJwk[] } {
    const keys: PublicJwk[] = [];
    for (const entry of this.keys.values()) {
      if (entry.alg === 'HS256') continue;
      keys.push({ ...publicJwkOf(entry.verifyKey), kid: entry.kid, alg: entry.alg, use: 'sig' });
    }
    return { keys };
  }

  /**
   * Adds a key (e.g. a reloaded secret file); it verifies at once and signs when `activate` is set.
   * @throws JwtConfigError for bad material or a duplicate kid
   */
  addKey(config: JwtKeyConfig, { activate = false }: { activate?: boolean } = {}): JwtKeyInfo {
    const entry = loadKey(config, `key "${config.kid ?? '(no kid)'}"`);
    this.insert(entry);
    this.emit('change', { type: 'added', kid: entry.kid, alg: entry.alg });
    if (activate) this.activate(entry.kid);
    return this.info(entry);
  }

  /** Makes `kid` the signing key; the previous one keeps verifying. */
  activate(kid: string): void {
    const entry = this.keys.get(kid);
    if (!entry) throw new JwtConfigError(`JwtKeyring: no key "${kid}" to activate`);
    if (!entry.signKey) throw new JwtConfigError(`JwtKeyring: key "${kid}" cannot sign`);
    this.activeKidValue = kid;
    this.log.info({ kid, alg: entry.alg }, 'JwtKeyring: signing key activated');
    this.emit('change', { type: 'activated', kid, alg: entry.alg });
  }

  /**
   * Adds a new signing key: the given one, or a generated one of `alg` (default: the ring's
   * `algorithm`). Tokens signed with older keys keep verifying until those are retired.
   */
  rotate(config: Partial<JwtKeyConfig> = {}): JwtKeyInfo {
    const alg = config.alg ?? this.algorithm;
    if (config.key !== undefined || config.keyFile !== undefined) {
      return this.addKey({ ...config, alg }, { activate: true });
    }
    assertAlgorithm(alg, 'rotate().alg');
    const entry = generateKey(alg, config.kid);
    this.insert(entry);
    this.emit('change', { type: 'added', kid: entry.kid, alg: entry.alg });
    this.activate(entry.kid);
    return this.info(entry);
  }

  /**
   * Removes a key: tokens signed with it stop verifying and it leaves the JWKS.
   * @throws JwtConfigError for the active key (rotate first) or an unknown kid
   */
  retire(kid: string): void {
    const entry = this.keys.get(kid);
    if (!entry) throw new JwtConfigError(`JwtKeyring: no key "${kid}" to retire`);
    if (kid === this.activeKidValue) {
      throw new JwtConfigError(
        `JwtKeyring: key "${kid}" is the active signing key; rotate() before retiring it`,
      );
    }
    this.keys.delete(kid);
    this.algorithmList = undefined;
    this.revisionValue++;
    this.log.info({ kid, alg: entry.alg }, 'JwtKeyring: key retired');
    this.emit('change', { type: 'retired', kid, alg: entry.alg });
  }

  /** A secret of `keys[].secret` changed: its new key signs, the one it replaces retires later. */
  private secretRotated(name: string, alg: JwtAlgorithm, secret: Secret<string> | undefined): void {
    const previous = this.fromSecret.get(name);
    if (secret === undefined) {
      this.log.warn(
        { secret: name, kid: previous },
        'JwtKeyring: the key secret disappeared; keeping its key',
      );
      return;
    }
    let entry: KeyEntry;
    try {
      const material = secret.reveal();
      entry = loadKey({ alg, key: material, kid: derivedKid(alg, material) }, `secret ${name}`);
    } catch (error) {
      this.log.error(
        { secret: name, kid: this.activeKidValue, reason: (error as Error).message },
        'JwtKeyring: the rotated key is not usable; the current key keeps signing',
      );
      return;
    }
    if (entry.kid === previous) return;
    if (this.keys.has(entry.kid)) {
      clearTimeout(this.retireTimers.get(entry.kid));
      this.retireTimers.delete(entry.kid);
    } else {
      this.insert(entry);
      this.emit('change', { type: 'added', kid: entry.kid, alg: entry.alg });
    }
    this.fromSecret.set(name, entry.kid);
    this.activate(entry.kid);
    if (previous !== undefined)
      this.retireLater(previous, (this.rotatedKeyTtlSeconds ?? -1) * 1000);
  }

  /** Retires `kid` after `ms` (nothing when negative: kept until retired by hand). */
  private retireLater(kid: string, ms: number): void {
    if (ms < 0) return;
    clearTimeout(this.retireTimers.get(kid));
    const timer = setTimeout(
      () => {
        this.retireTimers.delete(kid);
        if (ms > MAX_TIMER_MS) return this.retireLater(kid, ms - MAX_TIMER_MS);
        if (this.keys.has(kid) && kid !== this.activeKidValue) this.retire(kid);
      },
      Math.min(ms, MAX_TIMER_MS),
    );
    timer.unref();
    this.retireTimers.set(kid, timer);
  }

  private insert(entry: KeyEntry): void {
    if (!KID.test(entry.kid)) {
      throw new JwtConfigError(
        `JwtKeyring: key id ${JSON.stringify(entry.kid)} must be 1-128 printable ASCII characters without spaces`,
      );
    }
    if (this.keys.has(entry.kid)) {
      throw new JwtConfigError(`JwtKeyring: duplicate key id "${entry.kid}"`);
    }
    this.keys.set(entry.kid, entry);
    this.algorithmList = undefined;
    this.revisionValue++;
    this.activeKidValue ??= entry.kid;
  }

  private info(k: KeyEntry): JwtKeyInfo {
    return {
      kid: k.kid,
      alg: k.alg,
      canSign: k.signKey !== undefined,
      active: k.kid === this.activeKidValue,
      ephemeral: k.ephemeral,
    };
  }
}

function assertAlgorithm(alg: unknown, where: string): asserts alg is JwtAlgorithm {
  if (!JWT_ALGORITHMS.includes(alg as JwtAlgorithm)) {
    throw new JwtConfigError(
      `JwtKeyring: ${where} must be one of ${JWT_ALGORITHMS.join(', ')}, got ${JSON.stringify(alg)}`,
    );
  }
}

function generateKey(alg: JwtAlgorithm, kid?: string): KeyEntry {
  if (alg === 'HS256') {
    const secret = createSecretKey(randomBytes(32));
    return { kid: kid ?? randomKid(), alg, verifyKey: secret, signKey: secret, ephemeral: true };
  }
  const pair =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519');
  return {
    kid: kid ?? thumbprint(pair.publicKey),
    alg,
    verifyKey: pair.publicKey,
    signKey: pair.privateKey,
    ephemeral: true,
  };
}

function loadKey(config: JwtKeyConfig, where: string): KeyEntry {
  assertAlgorithm(config.alg, `${where}.alg`);
  if (config.kid !== undefined && !KID.test(config.kid)) {
    throw new JwtConfigError(
      `JwtKeyring: ${where}.kid must be 1-128 printable ASCII characters without spaces`,
    );
  }
  let material = config.key;
  if (material === undefined && config.keyFile !== undefined) {
    try {
      material = readFileSync(config.keyFile, 'utf8');
    } catch (e) {
      throw new JwtConfigError(
        `JwtKeyring: ${where}.keyFile "${config.keyFile}" cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  }
  if (material === undefined || material.trim() === '') {
    throw new JwtConfigError(`JwtKeyring: ${where} needs key or keyFile`);
  }
  const parsed = parseMaterial(material, config.alg, where);
  assertKeyFitsAlg(parsed.verifyKey, config.alg, where);
  const kid =
    config.kid ??
    parsed.jwkKid ??
    (config.alg === 'HS256' ? randomKid() : thumbprint(parsed.verifyKey));
  if (config.kid !== undefined && parsed.jwkKid !== undefined && parsed.jwkKid !== config.kid) {
    throw new JwtConfigError(
      `JwtKeyring: ${where}.kid "${config.kid}" differs from the JWK's kid "${parsed.jwkKid}"`,
    );
  }
  return { kid, alg: config.alg, ...parsed, ephemeral: false };
}

function parseMaterial(
  material: string,
  alg: JwtAlgorithm,
  where: string,
): { verifyKey: KeyObject; signKey?: KeyObject; jwkKid?: string } {
  const text = material.trim();
  try {
    if (text.startsWith('{')) return parseJwk(text, alg, where);
    if (text.startsWith('-----BEGIN')) {
      if (alg === 'HS256') {
        throw new JwtConfigError(`JwtKeyring: ${where} is HS256 but its key is a PEM`);
      }
      if (/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(text)) {
        throw new JwtConfigError(
          `JwtKeyring: ${where} is an encrypted PEM; decrypt it first (passphrases are not supported)`,
        );
      }
      if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
        const signKey = createPrivateKey(text);
        return { signKey, verifyKey: createPublicKey(signKey) };
      }
      return { verifyKey: createPublicKey(text) };
    }
  } catch (e) {
    if (e instanceof JwtConfigError) throw e;
    // The crypto error says what is wrong with the format; it never contains the material.
    throw new JwtConfigError(
      `JwtKeyring: ${where} is not a valid key (${(e as Error).message.split('\n')[0]})`,
    );
  }
  if (alg !== 'HS256') {
    throw new JwtConfigError(`JwtKeyring: ${where} is ${alg} and needs a PEM or JWK key`);
  }
  const secret = createSecretKey(Buffer.from(text, 'utf8'));
  return { verifyKey: secret, signKey: secret };
}

function parseJwk(
  text: string,
  alg: JwtAlgorithm,
  where: string,
): { verifyKey: KeyObject; signKey?: KeyObject; jwkKid?: string } {
  let jwk: JsonWebKey & { kid?: unknown; alg?: unknown; k?: unknown };
  try {
    jwk = JSON.parse(text) as typeof jwk;
  } catch {
    throw new JwtConfigError(`JwtKeyring: ${where} starts with "{" but is not valid JSON`);
  }
  if (jwk.alg !== undefined && jwk.alg !== alg) {
    throw new JwtConfigError(
      `JwtKeyring: ${where} is configured as ${alg} but its JWK says alg ${String(jwk.alg)}`,
    );
  }
  const jwkKid = typeof jwk.kid === 'string' ? jwk.kid : undefined;
  if (jwk.kty === 'oct') {
    if (alg !== 'HS256' || typeof jwk.k !== 'string') {
      throw new JwtConfigError(`JwtKeyring: ${where} is an "oct" JWK, usable only as HS256`);
    }
    const secret = createSecretKey(Buffer.from(jwk.k, 'base64url'));
    return { verifyKey: secret, signKey: secret, jwkKid };
  }
  if (alg === 'HS256') {
    throw new JwtConfigError(`JwtKeyring: ${where} is HS256 but its JWK is not "oct"`);
  }
  if (jwk.d !== undefined) {
    const signKey = createPrivateKey({ key: jwk, format: 'jwk' });
    return { signKey, verifyKey: createPublicKey(signKey), jwkKid };
  }
  return { verifyKey: createPublicKey({ key: jwk, format: 'jwk' }), jwkKid };
}

function assertKeyFitsAlg(key: KeyObject, alg: JwtAlgorithm, where: string): void {
  const problem = keyProblem(key, alg);
  if (problem) throw new JwtConfigError(`JwtKeyring: ${where} (${alg}): ${problem}`);
}

function keyProblem(key: KeyObject, alg: JwtAlgorithm): string | undefined {
  switch (alg) {
    case 'HS256':
      if (key.type !== 'secret') return 'needs a secret key';
      return key.symmetricKeySize! < MIN_HMAC_BYTES
        ? `the secret must be at least ${MIN_HMAC_BYTES} bytes (RFC 7518 §3.2), got ${key.symmetricKeySize}`
        : undefined;
    case 'RS256': {
      if (key.asymmetricKeyType !== 'rsa') return `needs an RSA key, got ${key.asymmetricKeyType}`;
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      return bits < MIN_RSA_BITS ? `RSA keys need ≥ ${MIN_RSA_BITS} bits, got ${bits}` : undefined;
    }
    case 'ES256':
      if (key.asymmetricKeyType !== 'ec') return `needs an EC key, got ${key.asymmetricKeyType}`;
      return key.asymmetricKeyDetails?.namedCurve === 'prime256v1'
        ? undefined
        : `needs curve P-256, got ${key.asymmetricKeyDetails?.namedCurve}`;
    case 'EdDSA':
      return key.asymmetricKeyType === 'ed25519'
        ? undefined
        : `needs an Ed25519 key, got ${key.asymmetricKeyType}`;
  }
}

function publicJwkOf(key: KeyObject): { kty: string; [member: string]: unknown } {
  return key.export({ format: 'jwk' }) as { kty: string; [member: string]: unknown };
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of a public key. */
function thumbprint(publicKey: KeyObject): string {
  const jwk = publicJwkOf(publicKey);
  const members =
    jwk.kty === 'RSA'
      ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
      : jwk.kty === 'EC'
        ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
        : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/** The key material of a `keys[].secret`. */
function secretMaterial(secrets: SecretsProvider | undefined, name: string, where: string): string {
  if (!secrets) {
    throw new JwtConfigError(`JwtKeyring: ${where}.secret "${name}" needs options.secrets`);
  }
  const secret = secrets.get(name);
  if (!secret) {
    throw new JwtConfigError(
      `JwtKeyring: ${where}.secret "${name}" not found (looked in ${secrets.describe(name).join(', ')})`,
    );
  }
  return secret.reveal();
}

/**
 * The kid of a key read from a secret, the same on every instance: the JWK's own or the
 * thumbprint (by `loadKey`), for an HS256 secret a truncated hash of it.
 */
function derivedKid(alg: JwtAlgorithm, material: string): string | undefined {
  if (alg !== 'HS256' || material.trim().startsWith('{')) return undefined;
  return `hs-${createHash('sha256').update('jwt-kid\0').update(material.trim()).digest('base64url').slice(0, 22)}`;
}

function randomKid(): string {
  return randomBytes(12).toString('base64url');
}
