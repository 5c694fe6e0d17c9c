// Two changes to kafkajs 2.2.4's request queue (one per broker connection).
//
// 1. kafkajs 2.2.4 re-arms a timer on every broker connection even when nothing is pending and no
// throttle is in force: `throttledUntil` starts at -1, so the delay is about minus the epoch,
// Node clamps it to 1 ms (printing TimeoutNegativeWarning on Node 24) and the check re-runs
// every millisecond for the life of the connection (tulios/kafkajs#1704, #1751; fix discussed in
// PR #1768). Each idle process spent a few % of a core on it. This replaces that one method with
// the discussed fix: schedule only when a request is pending or a throttle will end; a new or
// fulfilled request checks the queue again anyway. Remove once kafkajs ships the fix.
//
// 2. Every connection checks its in-flight requests for a timeout every 100 ms, from connect to
// close, whether anything is in flight or not (min(requestTimeout, 100)). Every consumer and
// producer has a few connections: an idle projector process woke 50 times a second for it
// (strace and async_hooks), about a quarter of its idle CPU. Request timeouts here are 30 s
// (Fetch: its maxWaitTime plus the same), so checking once a second finds a timed-out request at
// most a second later, with the same effect.
import { createRequire } from 'node:module';

const CHECK_PENDING_REQUESTS_INTERVAL = 10; // kafkajs's own constant

const REQUEST_TIMEOUT_CHECK_INTERVAL = 1000;

type Queue = {
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  throttledUntil: number;
  pending: unknown[];
  checkPendingRequests: () => void;
  enforceRequestTimeout: boolean;
  requestTimeout: number;
  requestTimeoutIntervalId: NodeJS.Timeout | null;
  inflight: Map<number, { sentAt: number; requestTimeout: number; timeoutRequest: () => void }>;
  isConnected: () => boolean;
  destroy: () => void;
};
const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as {
  prototype: Queue & { scheduleCheckPendingRequests: () => void; scheduleRequestTimeoutCheck: () => void };
};

RequestQueue.prototype.scheduleRequestTimeoutCheck = function scheduleRequestTimeoutCheck(this: Queue): void {
  if (!this.enforceRequestTimeout) return;
  this.destroy();
  this.requestTimeoutIntervalId = setInterval(
    () => {
      const now = Date.now();
      for (const request of this.inflight.values()) if (now - request.sentAt > request.requestTimeout) request.timeoutRequest();
      if (!this.isConnected()) this.destroy();
    },
    Math.min(this.requestTimeout, REQUEST_TIMEOUT_CHECK_INTERVAL),
  );
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
