import { describeCacheContract } from './contract/cache-contract.js';

describeCacheContract('memory', () => ({ store: 'memory' }));
describeCacheContract('memory + L1', () => ({ store: 'memory', l1: { maxEntries: 1000 } }));
