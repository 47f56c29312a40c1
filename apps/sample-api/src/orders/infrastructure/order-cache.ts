/** The cache tag of one order's views (evicted after a change commits, on every instance). */
export const orderTag = (id: string): string => `order:${id}`;
