// Object storage: the BlobStore port, file system and S3 adapters, BlobStorageModule
export { BlobStorageModule } from './blob-storage.module.js';
export type { BlobStorageOptions } from './blob-storage.options.js';
export { blobStorageConfig, blobStorageOptionsFrom } from './blob-storage.config.js';
export {
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
  type SignedUrlOptions,
} from './blob-store.js';
export { FileSystemBlobStore, type FileSystemBlobStoreOptions } from './fs-blob.store.js';
export { S3BlobStore } from './s3-blob.store.js';
export type { S3BlobStoreOptions, S3Credentials } from './s3-blob.options.js';
export {
  BlobNotFoundError,
  BlobStorageConfigError,
  BlobStoreError,
  InvalidBlobKeyError,
  InvalidBlobMetadataError,
  UnsupportedBlobOperationError,
} from './blob.errors.js';
