/** What time it is, for the use cases (events are stamped with it); tests pass a fixed one. */
export abstract class Clock {
  abstract now(): Date;
}
