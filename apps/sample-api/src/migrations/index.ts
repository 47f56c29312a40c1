import { CreateOrders1764000000000 } from './1764000000000-create-orders.js';

/** Every migration of the sample API, oldest first. */
export const migrations = [CreateOrders1764000000000];
