import type { Db } from "./knex.js";
import { claimStore } from "./ledger/claims.js";
import { expiryStore } from "./ledger/expiry.js";
import { noticeStore } from "./ledger/notices.js";
import { periodStore } from "./ledger/periods.js";
import { skipStore } from "./ledger/skips.js";
import { tallyStore } from "./ledger/tallies.js";
import type { LedgerStore } from "./ledger/types.js";

export { clearDeliveryState } from "./ledger/periods.js";
export type {
  ClaimQuery,
  DeliveryKind,
  DeliveryRow,
  DeliveryState,
  ExpiredRow,
  Fence,
  KindCounts,
  LedgerStore,
  PeriodTally,
  PlanItem,
} from "./ledger/types.js";
export { NOT_IN_PILOT, noCounts } from "./ledger/types.js";

/** The delivery ledger, one part per concern in ledger/; each part's SQL stays with its own methods. */
export function createLedgerStore(db: Db): LedgerStore {
  return {
    ...periodStore(db),
    ...claimStore(db),
    ...skipStore(db),
    ...tallyStore(db),
    ...noticeStore(db),
    ...expiryStore(db),
  };
}
