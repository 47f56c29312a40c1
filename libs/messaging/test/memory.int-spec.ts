import { describeTransportContract } from './contract/transport-contract.js';

describeTransportContract('memory', () => ({ transport: 'memory' }));
