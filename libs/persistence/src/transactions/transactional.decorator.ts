import { Inject } from '@nestjs/common';
import { replaceMethod } from '@infrastructure/core';
import { UnitOfWork, type UnitOfWorkOptions } from './unit-of-work.js';

const UOW = Symbol('unitOfWork');

/**
 * Runs the method in a unit of work (see {@link UnitOfWork.run}): joins the current transaction or
 * starts one; a thrown error rolls back. The class must be a Nest provider.
 *
 * @example
 * @Transactional() async placeOrder(cmd: PlaceOrder) { await this.orders.save(order); }
 * @Transactional({ propagation: 'requiresNew' }) async recordAttempt() { ... }
 */
export function Transactional(options: UnitOfWorkOptions = {}): MethodDecorator {
  const inject = Inject(UnitOfWork);
  return (target, key, descriptor: PropertyDescriptor) => {
    inject(target, UOW);
    const original = descriptor.value as (...args: unknown[]) => Promise<unknown>;
    const wrapped = function (this: { [UOW]: UnitOfWork }, ...args: unknown[]) {
      return this[UOW].run(() => original.apply(this, args), options);
    };
    return replaceMethod(descriptor, wrapped);
  };
}
