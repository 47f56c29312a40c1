/** The resolved options (`ResolvedBlobStorageOptions`). */
export const BLOB_STORAGE_OPTIONS = 'BLOB_STORAGE:OPTIONS';
