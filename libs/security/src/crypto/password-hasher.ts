import { Injectable } from '@nestjs/common';
import {
  randomBytes,
  scrypt as scryptCallback,
  timingSafeEqual,
  type ScryptOptions,
} from 'node:crypto';
import type * as Argon2 from 'argon2';
import { loadDriver } from '@infrastructure/core';
import { getLogger } from '@infrastructure/monitoring';
import { PasswordHashingError } from './errors.js';

/** The password hashing algorithms {@link PasswordHasher} writes. */
export type PasswordHashAlgorithm = 'argon2id' | 'scrypt';

/** Argon2id cost parameters. */
export interface Argon2Params {
  /** Memory in KiB. @default 19456 (19 MiB, OWASP's minimum for argon2id) */
  memoryCost?: number;
  /** Passes over memory. @default 2 */
  timeCost?: number;
  /** Lanes. @default 1 */
  parallelism?: number;
}

/** scrypt cost parameters. */
export interface ScryptParams {
  /** CPU/memory cost N, a power of two. @default 32768 (2^15; 32 MiB with blockSize 8) */
  cost?: number;
  /** Block size r. @default 8 */
  blockSize?: number;
  /** Parallelization p. @default 1 */
  parallelization?: number;
}

/** Options of {@link PasswordHasher}. */
export interface PasswordHashingOptions {
  /**
   * The algorithm new hashes use. Both are always verified, so switching migrates users at their
   * next login (via {@link PasswordHasher.needsRehash}). `scrypt` is node:crypto only, for
   * environments where the `argon2` native package cannot be installed.
   * @default 'argon2id'
   */
  algorithm?: PasswordHashAlgorithm;
  /** Argon2id costs (hashes with lower costs need a rehash). */
  argon2?: Argon2Params;
  /** scrypt costs (hashes with lower costs need a rehash). */
  scrypt?: ScryptParams;
  /** Longer passwords are refused by `hash` and never match in `verify` (bounds the work per call). @default 1024 */
  maxPasswordBytes?: number;
}

type ArgonApi = Pick<typeof Argon2, 'hash' | 'verify'>;

interface ParsedHash {
  algorithm: PasswordHashAlgorithm;
  params: Record<string, number>;
  salt?: Buffer;
  hash?: Buffer;
}

const DEFAULT_ARGON2 = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
const DEFAULT_SCRYPT = { cost: 2 ** 15, blockSize: 8, parallelization: 1 } as const;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
// A stored hash names its own costs: refuse absurd ones rather than let a bad row pin the CPU.
const SCRYPT_MAX = { ln: 22, r: 32, p: 16 };
const ARGON2_MAX = { m: 1_048_576, t: 64, p: 64 };

const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');

/** Parses `$<alg>$[v=19$]k=v,k=v$<salt>$<hash>` (PHC string format). */
function parseHash(encoded: string): ParsedHash | string {
  if (typeof encoded !== 'string') return `not a string (${typeof encoded})`;
  const parts = encoded.split('$');
  if (parts[0] !== '' || parts.length < 5) return 'not a PHC string';
  const algorithm = parts[1];
  if (algorithm !== 'argon2id' && algorithm !== 'scrypt') {
    return `unsupported algorithm "${String(algorithm).slice(0, 20)}"`;
  }
  const params: Record<string, number> = {};
  let rest = parts.slice(2);
  if (rest[0]?.startsWith('v=')) {
    params.v = Number(rest[0].slice(2));
    rest = rest.slice(1);
  }
  if (rest.length !== 3) return 'wrong number of fields';
  for (const pair of rest[0]!.split(',')) {
    const [k, v] = pair.split('=');
    if (!k || v === undefined || !/^\d{1,10}$/.test(v)) return 'bad parameters';
    params[k] = Number(v);
  }
  if (!/^[A-Za-z0-9+/]+$/.test(rest[1]!) || !/^[A-Za-z0-9+/]+$/.test(rest[2]!)) {
    return 'bad salt or hash encoding';
  }
  return {
    algorithm,
    params,
    salt: Buffer.from(rest[1]!, 'base64'),
    hash: Buffer.from(rest[2]!, 'base64'),
  };
}

function scryptAsync(
  password: string,
  salt: Buffer,
  length: number,
  options: ScryptOptions,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    try {
      scryptCallback(password, salt, length, options, (error, key) =>
        error ? reject(error) : resolve(key),
      );
    } catch (error) {
      reject(error as Error); // invalid parameters throw synchronously
    }
  });
}

/** The memory limit for scrypt with these costs (node's 32 MiB default is too small for N = 2^15, r = 8). */
function scryptMaxmem(n: number, r: number, p: number): number {
  return 128 * r * (n + 2) + 128 * r * p + 1024 * 1024;
}

/**
 * Password hashing with argon2id (the `argon2` package, loaded when first needed) or scrypt
 * (node:crypto). Hashes are PHC strings carrying their algorithm, costs and salt:
 * `$argon2id$v=19$m=19456,p=1,t=2$<salt>$<hash>` or `$scrypt$ln=15,r=8,p=1$<salt>$<hash>`, so
 * costs can be raised later and old hashes still verify; {@link needsRehash} tells when to
 * re-hash at the next successful login.
 *
 * @example
 * const hasher = new PasswordHasher();
 * const stored = await hasher.hash(password);
 * if (await hasher.verify(password, stored) && hasher.needsRehash(stored)) save(await hasher.hash(password));
 */
@Injectable()
export class PasswordHasher {
  private readonly log = getLogger('PasswordHasher');
  private readonly algorithm: PasswordHashAlgorithm;
  private readonly argon2Params: Required<Argon2Params>;
  private readonly scryptParams: Required<ScryptParams>;
  private readonly maxBytes: number;
  private argon?: Promise<ArgonApi>;
  private dummy?: Promise<string>;

  constructor(options: PasswordHashingOptions = {}) {
    this.algorithm = options.algorithm ?? 'argon2id';
    if (this.algorithm !== 'argon2id' && this.algorithm !== 'scrypt') {
      throw new PasswordHashingError(
        `PasswordHasher: algorithm must be 'argon2id' or 'scrypt', got "${String(this.algorithm)}"`,
      );
    }
    this.argon2Params = { ...DEFAULT_ARGON2, ...options.argon2 };
    this.scryptParams = { ...DEFAULT_SCRYPT, ...options.scrypt };
    this.maxBytes = options.maxPasswordBytes ?? 1024;
    const { memoryCost, timeCost, parallelism } = this.argon2Params;
    if (!(memoryCost >= 8 * parallelism && timeCost >= 1 && parallelism >= 1)) {
      throw new PasswordHashingError(
        'PasswordHasher: argon2 needs timeCost >= 1, parallelism >= 1 and memoryCost >= 8 * parallelism (KiB)',
      );
    }
    const { cost } = this.scryptParams;
    if (!(cost > 1 && (cost & (cost - 1)) === 0)) {
      throw new PasswordHashingError(
        `PasswordHasher: scrypt cost must be a power of two, got ${cost}`,
      );
    }
  }

  /** The algorithm new hashes use. */
  get hashAlgorithm(): PasswordHashAlgorithm {
    return this.algorithm;
  }

  /**
   * Hashes a password with a fresh random salt.
   * @throws PasswordHashingError when the password is empty or longer than `maxPasswordBytes`;
   *   MissingDependencyError when `argon2id` is configured and the `argon2` package is missing.
   */
  async hash(password: string): Promise<string> {
    if (typeof password !== 'string' || password.length === 0) {
      throw new PasswordHashingError('cannot hash an empty password');
    }
    if (Buffer.byteLength(password) > this.maxBytes) {
      throw new PasswordHashingError(`password is longer than ${this.maxBytes} bytes`);
    }
    if (this.algorithm === 'argon2id') {
      const argon = await this.argon2();
      const { memoryCost, timeCost, parallelism } = this.argon2Params;
      return argon.hash(password, {
        type: 2, // argon2id
        memoryCost,
        timeCost,
        parallelism,
        hashLength: HASH_BYTES,
      });
    }
    const { cost: N, blockSize: r, parallelization: p } = this.scryptParams;
    const salt = randomBytes(SALT_BYTES);
    const key = await scryptAsync(password, salt, HASH_BYTES, {
      N,
      r,
      p,
      maxmem: scryptMaxmem(N, r, p),
    });
    return `$scrypt$ln=${Math.log2(N)},r=${r},p=${p}$${b64(salt)}$${b64(key)}`;
  }

  /**
   * True when `password` matches `hash` (compared in constant time). Never throws for a bad
   * stored hash: a malformed or unsupported one is `false`, with the reason logged at debug.
   * With no stored hash (`null`/`undefined`, e.g. unknown user) it still does the work of one
   * verification and returns `false`, so response times do not reveal which users exist.
   */
  async verify(password: string, hash: string | null | undefined): Promise<boolean> {
    if (hash === null || hash === undefined) {
      await this.dummyHash()
        .then((dummy) => this.verify(password, dummy))
        .catch(() => false);
      return false;
    }
    if (typeof password !== 'string' || password.length === 0) return false;
    if (Buffer.byteLength(password) > this.maxBytes) {
      this.log.debug('password verification refused: password longer than maxPasswordBytes');
      return false;
    }
    const parsed = parseHash(hash);
    if (typeof parsed === 'string') {
      this.log.debug({ reason: parsed }, 'password verification failed: malformed hash');
      return false;
    }
    try {
      if (parsed.algorithm === 'argon2id') {
        const { m, t, p } = parsed.params;
        if (!(
          m! >= 8 &&
          m! <= ARGON2_MAX.m &&
          t! >= 1 &&
          t! <= ARGON2_MAX.t &&
          p! >= 1 &&
          p! <= ARGON2_MAX.p
        )) {
          throw new Error('argon2 parameters missing or out of range');
        }
        return await (await this.argon2()).verify(hash, password);
      }
      return await this.verifyScrypt(password, parsed);
    } catch (error) {
      if ((error as Error).name === 'MissingDependencyError') throw error;
      this.log.debug(
        { reason: (error as Error).message, algorithm: parsed.algorithm },
        'password verification failed: hash rejected',
      );
      return false;
    }
  }

  /**
   * True when `hash` should be replaced at the next successful login: another algorithm than the
   * configured one, costs below the configured ones, or a hash that cannot be parsed.
   */
  needsRehash(hash: string): boolean {
    const parsed = parseHash(hash);
    if (typeof parsed === 'string') return true;
    if (parsed.algorithm !== this.algorithm) return true;
    const p = parsed.params;
    if (parsed.algorithm === 'argon2id') {
      const want = this.argon2Params;
      return (
        p.v !== 19 ||
        !(p.m! >= want.memoryCost) ||
        !(p.t! >= want.timeCost) ||
        !(p.p! >= want.parallelism)
      );
    }
    const want = this.scryptParams;
    return (
      !(p.ln! >= Math.log2(want.cost)) ||
      !(p.r! >= want.blockSize) ||
      !(p.p! >= want.parallelization)
    );
  }

  private async verifyScrypt(password: string, parsed: ParsedHash): Promise<boolean> {
    const { ln, r, p } = parsed.params;
    if (
      ln === undefined ||
      r === undefined ||
      p === undefined ||
      ln < 1 ||
      ln > SCRYPT_MAX.ln ||
      r < 1 ||
      r > SCRYPT_MAX.r ||
      p < 1 ||
      p > SCRYPT_MAX.p
    ) {
      throw new Error('scrypt parameters missing or out of range');
    }
    const expected = parsed.hash!;
    if (expected.length < 16) throw new Error('scrypt hash too short');
    const N = 2 ** ln;
    const actual = await scryptAsync(password, parsed.salt!, expected.length, {
      N,
      r,
      p,
      maxmem: scryptMaxmem(N, r, p),
    });
    return timingSafeEqual(actual, expected);
  }

  private argon2(): Promise<ArgonApi> {
    this.argon ??= loadDriver<typeof Argon2 & { default?: ArgonApi }>(
      'argon2',
      'PasswordHasher',
    ).then((m) => m.default ?? m);
    // A failed load (missing package) is retried next time rather than cached.
    this.argon.catch(() => (this.argon = undefined));
    return this.argon;
  }

  private dummyHash(): Promise<string> {
    this.dummy ??= this.hash(randomBytes(16).toString('hex'));
    return this.dummy;
  }
}
