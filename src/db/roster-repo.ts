import type { Db } from "./knex.js";

/** Everyone in the roster with a name, by email: the people of an emulated workspace. */
export async function listPeople(db: Db): Promise<Array<{ email: string; name: string; timezone: string | null }>> {
  return db("people").select("email", "name", "timezone").orderBy("email");
}

/** The channels programs post their summaries to, each once. */
export async function listAdminChannels(db: Db): Promise<string[]> {
  return db("programs").whereNotNull("admin_channel").distinct("admin_channel").pluck("admin_channel");
}

/** Forgets every delivery and every Slack lookup: a benchmark's next delivery starts from nothing. */
export async function clearDeliveryState(db: Db): Promise<void> {
  await db("deliveries").del();
  await db("delivery_periods").del();
  await db("slack_users").del();
  await db("settings").where("key", "like", "directory_refreshed:%").del();
}
