import { afterEach, describe } from "bun:test";
import { deletionTests } from "./deletion.ts";
import { dependencyTests } from "./dependencies.ts";
import { encryptionTests } from "./encryption.ts";
import type { KeyOptions, MakeStore, StoreUnderTest } from "./harness.ts";
import { historyTests } from "./history.ts";
import { listingTests } from "./listing.ts";
import { scheduleEncryptionTests } from "./schedule-encryption.ts";
import { scheduleTests } from "./schedules.ts";
import { taskTypePauseTests } from "./task-type-pauses.ts";
import { taskTests } from "./tasks.ts";
import { transactionTests } from "./transactions.ts";
import { transitionTests } from "./transitions.ts";

export type { KeyOptions, MakeStore, RawColumn, StoreUnderTest } from "./harness.ts";

/**
 * The contract of the TaskStore port (src/store/task-store.ts), written once and run against each
 * store: `makeStore` gives a fresh, migrated, empty store for each test, disposed of after it.
 */
export function runStoreSuite(label: string, makeStore: MakeStore): void {
  describe(label, () => {
    const opened: StoreUnderTest[] = [];
    afterEach(async () => {
      for (const under of opened.splice(0).reverse()) await under.dispose();
    });
    const context = {
      async open(options: KeyOptions = {}): Promise<StoreUnderTest> {
        const under = await makeStore(options);
        opened.push(under);
        return under;
      },
    };
    taskTests(context);
    transitionTests(context);
    listingTests(context);
    historyTests(context);
    deletionTests(context);
    dependencyTests(context);
    encryptionTests(context);
    transactionTests(context);
    scheduleTests(context);
    scheduleEncryptionTests(context);
    taskTypePauseTests(context);
  });
}
