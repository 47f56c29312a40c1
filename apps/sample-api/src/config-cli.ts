import { runConfigCli } from '@infrastructure/configuration';
import { definitions } from './config.js';

// `npm run config:<command> -- ...`: encrypt, check, snapshot, print, docs.
process.exitCode = runConfigCli(definitions, process.argv.slice(2));
