// The worker of bench/worker-wake.ts: answers each message at once, as a run's end would.
declare const self: Worker;
self.onmessage = (event: MessageEvent) => {
  if (event.data === "answer") self.postMessage("answered");
};
