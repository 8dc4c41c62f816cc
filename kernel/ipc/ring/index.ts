/** @module ring — the shared-memory transport: the mapped region, its request queues, spin-then-futex waiting and validation. */
export * from "./errors.ts";
export * from "./futex.ts";
export * from "./spin-wait.ts";
export * from "./region.ts";
export * from "./validate.ts";
export * from "./queue.ts";
export * from "./thread-lock.ts";
export * from "./chunk-store.ts";
