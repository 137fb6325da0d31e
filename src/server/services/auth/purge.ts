/**
 * What the periodic sweep removes of the accounts' rows: sessions past their end or idle too long,
 * throttle rows quiet for longer than every window, invites expired for a week.
 */
import type { Db } from "../../db/client";
import { purgeEndedSessions } from "../auth";
import { purgeExpiredInvites } from "./invites";
import { AuthThrottle } from "./throttle";

export async function purgeExpiredAuthRows(db: Db): Promise<{ sessions: number; throttles: number; invites: number }> {
  return {
    sessions: await purgeEndedSessions(db),
    throttles: await new AuthThrottle(db).purge(),
    invites: await purgeExpiredInvites(db),
  };
}
