/**
 * Something a route's decorators decide, computed once per controller class and handler:
 * decorators are applied when the class is defined, so their metadata never changes afterwards.
 * Keyed by class, then handler, because a handler inherited by two controllers may be decorated
 * differently through each class. Weak keys: nothing is kept for classes that go away.
 */
export class RouteMemo<T> {
  private readonly byClass = new WeakMap<object, WeakMap<object, T>>();

  constructor(private readonly compute: (classRef: object, handler: object) => T) {}

  get(classRef: object, handler: object): T {
    let byHandler = this.byClass.get(classRef);
    if (!byHandler) this.byClass.set(classRef, (byHandler = new WeakMap()));
    let value = byHandler.get(handler);
    if (value === undefined) {
      value = this.compute(classRef, handler);
      byHandler.set(handler, value);
    }
    return value;
  }
}
