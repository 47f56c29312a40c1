import { createHash, randomUUID } from 'node:crypto';
import { constants, createWriteStream, type Dirent } from 'node:fs';
import {
  access,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rmdir,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { bytesOf, contentTypeOf } from './blob-body.js';
import {
  assertValidBlobKey,
  assertValidBlobMetadata,
  assertValidBlobPrefix,
  blobListLimit,
} from './blob-key.js';
import {
  BlobStore,
  type BlobBody,
  type BlobInfo,
  type BlobListItem,
  type BlobListOptions,
  type BlobListPage,
  type BlobObject,
  type BlobPutOptions,
  type BlobPutResult,
  type BlobStream,
} from './blob-store.js';
import { BlobNotFoundError, BlobStorageConfigError, InvalidBlobKeyError } from './blob.errors.js';

/** Options of {@link FileSystemBlobStore}. */
export interface FileSystemBlobStoreOptions {
  /** Directory holding the objects (created by `init()`); relative paths resolve from the cwd. Required. */
  root: string;
}

/** The entry of one object (`<name>~meta.json`): the sidecar that also names the data file. */
interface Entry {
  v: 1;
  key: string;
  size: number;
  etag: string;
  contentType: string;
  metadata: Record<string, string>;
  lastModified: string;
  /** Data file name in the same directory. */
  data: string;
}

const ENTRY_SUFFIX = '~meta.json';
/** Longest file name on common file systems (bytes). */
const MAX_NAME_BYTES = 255;
/** `~<uuid>.data`: the longest suffix we add to an encoded segment. */
const DATA_SUFFIX_BYTES = 1 + 36 + 5;
/** A reader that loses a race with a writer (data file replaced between entry and open) retries. */
const READ_RETRIES = 3;

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

function isMissing(error: unknown): boolean {
  const code = errno(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * A key segment as a file name: `%` and `~` escaped (so `~` only appears in the names we add) plus
 * characters Windows and macOS refuse. Everything else, UTF-8 included, stays readable.
 */
function encodeSegment(segment: string): string {
  return segment.replace(/[%~<>:"|?*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function decodeSegment(name: string): string {
  return name.replace(/%([0-9A-F]{2})/g, (_, hex: string) =>
    String.fromCharCode(parseInt(hex, 16)),
  );
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  const key = /^[A-Za-z0-9_-]+$/.test(cursor)
    ? Buffer.from(cursor, 'base64url').toString('utf8')
    : '';
  if (key === '') {
    throw new InvalidBlobKeyError(
      cursor.slice(0, 80),
      'list cursor is not one this store returned',
    );
  }
  return key;
}

/** Serialises the entry swaps of one key in this process (no orphaned data files). */
class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const current = previous.then(fn, fn);
    const tail = current.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await current;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/**
 * Objects in a directory: the default store (development, tests, single-node deployments).
 *
 * Layout: key `images/2024/cat.png` is the directory `images/2024/` (one per segment) holding
 * `cat.png~meta.json` (the entry: key, size, ETag = MD5, type, metadata, and the name of the data
 * file) and `cat.png~<uuid>.data` (the bytes). Segments are stored as they are except `%`, `~` and
 * `<>:"|?*`, which are %-escaped, so every name containing `~` is ours and `a` and `a/b` can
 * coexist (a directory `a` next to an entry `a~meta.json`).
 *
 * Atomic writes: the data goes to a new file, then a temp entry is renamed over the old one, the
 * single step that makes the new object visible; readers follow the entry they read, so they see
 * the old or the new object, never a mix. Keys are validated and every path is checked to stay
 * under `root`: traversal is impossible (symbolic links placed inside `root` are followed).
 */
export class FileSystemBlobStore extends BlobStore {
  readonly kind = 'fs';
  /** Absolute root directory. */
  readonly root: string;
  private readonly mutex = new KeyedMutex();

  constructor(options: FileSystemBlobStoreOptions) {
    super();
    if (typeof options?.root !== 'string' || options.root.trim() === '') {
      throw new BlobStorageConfigError(
        'FileSystemBlobStore: options.root must be a directory path',
      );
    }
    this.root = resolve(options.root);
  }

  /** Creates the root directory (and parents) if missing. */
  async init(): Promise<this> {
    await mkdir(this.root, { recursive: true });
    return this;
  }

  async put(key: string, body: BlobBody, options: BlobPutOptions = {}): Promise<BlobPutResult> {
    assertValidBlobKey(key);
    assertValidBlobMetadata(options.metadata);
    const contentType = contentTypeOf(options.contentType);
    const { dir, name } = this.locate(key);
    const dataName = `${name}~${randomUUID()}.data`;
    const dataPath = join(dir, dataName);
    let written: { size: number; etag: string };
    try {
      written = await this.writeData(dir, dataPath, body, options.signal);
    } catch (error) {
      await unlink(dataPath).catch(() => undefined);
      throw error;
    }
    const entry: Entry = {
      v: 1,
      key,
      size: written.size,
      etag: written.etag,
      contentType,
      metadata: { ...options.metadata },
      lastModified: new Date().toISOString(),
      data: dataName,
    };
    const entryPath = join(dir, `${name}${ENTRY_SUFFIX}`);
    const tempPath = join(dir, `${name}~tmp-${randomUUID()}`);
    try {
      await writeFile(tempPath, JSON.stringify(entry), { flag: 'wx', flush: true });
      await this.mutex.run(entryPath, async () => {
        const previous = await this.readEntryAt(entryPath).catch(() => undefined);
        await rename(tempPath, entryPath); // the commit point
        if (previous && previous.data !== dataName) {
          await unlink(join(dir, previous.data)).catch(() => undefined);
        }
      });
    } catch (error) {
      await unlink(tempPath).catch(() => undefined);
      await unlink(dataPath).catch(() => undefined);
      throw error;
    }
    return { key, size: entry.size, etag: entry.etag };
  }

  async get(key: string, options: { signal?: AbortSignal } = {}): Promise<BlobObject> {
    return this.openData(key, async (entry, file) => {
      const body = await file.readFile({ signal: options.signal });
      return { ...infoOf(entry), body };
    });
  }

  async getStream(key: string, options: { signal?: AbortSignal } = {}): Promise<BlobStream> {
    return this.openData(
      key,
      (entry, file) => {
        const body = file.createReadStream({ signal: options.signal });
        return Promise.resolve({ ...infoOf(entry), body: body as Readable });
      },
      false,
    );
  }

  async head(key: string): Promise<BlobInfo> {
    assertValidBlobKey(key);
    return infoOf(await this.readEntry(key));
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.head(key);
      return true;
    } catch (error) {
      if (error instanceof BlobNotFoundError) return false;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    assertValidBlobKey(key);
    const { dir, name } = this.locate(key);
    const entryPath = join(dir, `${name}${ENTRY_SUFFIX}`);
    await this.mutex.run(entryPath, async () => {
      const entry = await this.readEntryAt(entryPath).catch((error: unknown) => {
        if (isMissing(error)) return undefined;
        throw error;
      });
      if (!entry) return;
      await unlink(entryPath).catch((error: unknown) => {
        if (!isMissing(error)) throw error;
      });
      await unlink(join(dir, entry.data)).catch(() => undefined);
    });
    await this.pruneEmptyDirs(dir);
  }

  async list(
    prefix: string,
    options: BlobListOptions & { signal?: AbortSignal } = {},
  ): Promise<BlobListPage> {
    assertValidBlobPrefix(prefix);
    const limit = blobListLimit(options.limit);
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    const slash = prefix.lastIndexOf('/');
    const startKeyPrefix = prefix.slice(0, slash + 1);
    const startDir = this.dirOf(startKeyPrefix.split('/').slice(0, -1));
    const items: BlobListItem[] = [];
    for await (const item of this.walk(startDir, startKeyPrefix, prefix, after)) {
      options.signal?.throwIfAborted();
      items.push(item);
      if (items.length > limit) break;
    }
    if (items.length <= limit) return { items };
    const page = items.slice(0, limit);
    return { items: page, cursor: encodeCursor(page[page.length - 1]!.key) };
  }

  async ping(): Promise<Record<string, unknown>> {
    await access(this.root, constants.R_OK | constants.W_OK);
    return {};
  }

  // --- internals ---

  /** Directory and encoded file name of a valid key; refuses anything outside `root`. */
  private locate(key: string): { dir: string; name: string } {
    const segments = key.split('/');
    const last = segments.pop()!;
    const name = encodeSegment(last);
    if (Buffer.byteLength(name) + DATA_SUFFIX_BYTES > MAX_NAME_BYTES) {
      throw new InvalidBlobKeyError(
        key.slice(0, 200),
        `last segment too long for the file system store (at most ${MAX_NAME_BYTES - DATA_SUFFIX_BYTES} bytes once escaped)`,
      );
    }
    return { dir: this.dirOf(segments, key), name };
  }

  private dirOf(segments: string[], key = segments.join('/')): string {
    const names = segments.map(encodeSegment);
    if (names.some((n) => Buffer.byteLength(n) > MAX_NAME_BYTES)) {
      throw new InvalidBlobKeyError(
        key.slice(0, 200),
        `segment too long for the file system store (at most ${MAX_NAME_BYTES} bytes once escaped)`,
      );
    }
    const dir = join(this.root, ...names);
    // Defence in depth: validated keys cannot escape, but never trust one check alone.
    if (dir !== this.root && !dir.startsWith(this.root + sep)) {
      throw new InvalidBlobKeyError(key.slice(0, 200), 'resolves outside the store');
    }
    if (!isAbsolute(dir)) throw new InvalidBlobKeyError(key.slice(0, 200), 'not under the root');
    return dir;
  }

  private async writeData(
    dir: string,
    dataPath: string,
    body: BlobBody,
    signal: AbortSignal | undefined,
  ): Promise<{ size: number; etag: string }> {
    const hash = createHash('md5');
    let size = 0;
    const bytes = bytesOf(body);
    if (bytes) {
      hash.update(bytes);
      size = bytes.length;
      await this.withDir(dir, () =>
        writeFile(dataPath, bytes, { flag: 'wx', flush: true, signal }),
      );
      return { size, etag: hash.digest('hex') };
    }
    const out = await this.withDir(dir, async () => {
      const file = await open(dataPath, 'wx');
      return createWriteStream('', { fd: file, flush: true });
    });
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    await pipeline(body as Readable, meter, out, { signal });
    return { size, etag: hash.digest('hex') };
  }

  /** Runs `fn` (which creates a file in `dir`), creating `dir` first and again if a concurrent delete pruned it. */
  private async withDir<T>(dir: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      await mkdir(dir, { recursive: true });
      try {
        return await fn();
      } catch (error) {
        if (errno(error) !== 'ENOENT' || attempt >= 2) throw error;
      }
    }
  }

  private async readEntry(key: string): Promise<Entry> {
    const { dir, name } = this.locate(key);
    try {
      const entry = await this.readEntryAt(join(dir, `${name}${ENTRY_SUFFIX}`));
      // On case-insensitive file systems `A` and `a` share a file: the entry says whose it is.
      if (entry.key !== key) throw new BlobNotFoundError(key);
      return entry;
    } catch (error) {
      if (isMissing(error)) throw new BlobNotFoundError(key, { cause: error });
      throw error;
    }
  }

  private async readEntryAt(path: string): Promise<Entry> {
    return JSON.parse(await readFile(path, 'utf8')) as Entry;
  }

  /** Reads the entry, opens its data file, retrying when a writer replaced it in between. */
  private async openData<T>(
    key: string,
    use: (entry: Entry, file: Awaited<ReturnType<typeof open>>) => Promise<T>,
    closeAfter = true,
  ): Promise<T> {
    assertValidBlobKey(key);
    const { dir } = this.locate(key);
    for (let attempt = 0; ; attempt++) {
      const entry = await this.readEntry(key);
      let file: Awaited<ReturnType<typeof open>>;
      try {
        file = await open(join(dir, entry.data), 'r');
      } catch (error) {
        if (isMissing(error) && attempt < READ_RETRIES) continue;
        if (isMissing(error)) throw new BlobNotFoundError(key, { cause: error });
        throw error;
      }
      try {
        return await use(entry, file);
      } finally {
        if (closeAfter) await file.close();
      }
    }
  }

  /** Removes now-empty directories up to (not including) the root; races with writers are fine. */
  private async pruneEmptyDirs(dir: string): Promise<void> {
    let current = dir;
    while (current !== this.root && current.startsWith(this.root + sep)) {
      try {
        await rmdir(current);
      } catch {
        return; // not empty, gone, or busy: stop
      }
      current = resolve(current, '..');
    }
  }

  /** Entries under `dir` (key prefix `keyPrefix`) whose key starts with `prefix` and sorts after `after`, ascending. */
  private async *walk(
    dir: string,
    keyPrefix: string,
    prefix: string,
    after: string | undefined,
  ): AsyncGenerator<BlobListItem> {
    let dirents: Dirent[];
    try {
      dirents = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    const children: Array<{ sortKey: string; name: string; isDir: boolean }> = [];
    for (const d of dirents) {
      if (d.isDirectory() && !d.name.includes('~')) {
        children.push({
          sortKey: `${keyPrefix}${decodeSegment(d.name)}/`,
          name: d.name,
          isDir: true,
        });
      } else if (d.isFile() && d.name.endsWith(ENTRY_SUFFIX)) {
        const encoded = d.name.slice(0, -ENTRY_SUFFIX.length);
        if (encoded.includes('~')) continue;
        children.push({
          sortKey: `${keyPrefix}${decodeSegment(encoded)}`,
          name: d.name,
          isDir: false,
        });
      }
    }
    // A directory sorts as `name/`: every key below it starts so, which gives global byte order.
    children.sort((a, b) => compareBytes(a.sortKey, b.sortKey));
    for (const child of children) {
      const path = join(dir, child.name);
      if (child.isDir) {
        const d = child.sortKey;
        if (!d.startsWith(prefix) && !prefix.startsWith(d)) continue;
        if (after !== undefined && compareBytes(d, after) < 0 && !after.startsWith(d)) continue;
        yield* this.walk(path, d, prefix, after);
        continue;
      }
      if (!child.sortKey.startsWith(prefix)) continue;
      if (after !== undefined && compareBytes(child.sortKey, after) <= 0) continue;
      const entry = await this.readEntryAt(path).catch(() => undefined);
      if (!entry || entry.key !== child.sortKey) continue; // deleted meanwhile, or a case twin
      yield {
        key: entry.key,
        size: entry.size,
        etag: entry.etag,
        lastModified: new Date(entry.lastModified),
      };
    }
  }
}

function infoOf(entry: Entry): BlobInfo {
  return {
    key: entry.key,
    size: entry.size,
    etag: entry.etag,
    contentType: entry.contentType,
    metadata: { ...entry.metadata },
    lastModified: new Date(entry.lastModified),
  };
}
