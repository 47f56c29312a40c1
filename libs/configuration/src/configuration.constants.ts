/** Injection token of the {@link LoadedConfiguration} built at boot. */
export const LOADED_CONFIGURATION = 'CONFIGURATION:LOADED';
