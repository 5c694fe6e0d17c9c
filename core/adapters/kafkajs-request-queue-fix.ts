// kafkajs 2.2.4 re-arms a timer on every broker connection even when nothing is pending and no
// throttle is in force: `throttledUntil` starts at -1, so the delay is about minus the epoch,
// Node clamps it to 1 ms (printing TimeoutNegativeWarning on Node 24) and the check re-runs
// every millisecond for the life of the connection (tulios/kafkajs#1704, #1751; fix discussed in
// PR #1768). Each idle process spent a few % of a core on it. This replaces that one method with
// the discussed fix: schedule only when a request is pending or a throttle will end; a new or
// fulfilled request checks the queue again anyway. Remove once kafkajs ships the fix.
import { createRequire } from 'node:module';

const CHECK_PENDING_REQUESTS_INTERVAL = 10; // kafkajs's own constant

type Queue = { throttleCheckTimeoutId: NodeJS.Timeout | null; throttledUntil: number; pending: unknown[]; checkPendingRequests: () => void };
const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as {
  prototype: Queue & { scheduleCheckPendingRequests: () => void };
};

RequestQueue.prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: Queue): void {
  if (this.throttleCheckTimeoutId) return;
  let delay = this.throttledUntil - Date.now();
  if (this.pending.length > 0) delay = delay > 0 ? delay : CHECK_PENDING_REQUESTS_INTERVAL;
  else if (delay <= 0) return;
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, delay);
};
