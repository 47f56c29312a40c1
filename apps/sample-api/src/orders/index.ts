// What other modules of the app (payments, webhooks) and its tests use of orders.
export { OrdersModule } from './orders.module.js';
export { RecordPayment } from './application/record-payment.use-case.js';
export { OrderCancelled, OrderPaymentRecorded, OrderPlaced } from './domain/order.events.js';
