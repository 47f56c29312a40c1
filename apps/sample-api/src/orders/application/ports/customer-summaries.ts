/** A customer's order summary (a read model, eventually consistent with the orders). */
export interface CustomerSummary {
  customerId: string;
  ordersCount: number;
  totalCents: number;
  lastOrderId: string;
  lastOrderAt: Date;
}

/** The customer summaries' port (projected from order events). */
export abstract class CustomerSummaries {
  /** The customer's summary, or undefined when no order of theirs is projected yet. */
  abstract find(customerId: string): Promise<CustomerSummary | undefined>;
}
