import type { Db } from "./knex.js";

/** Everyone in the roster with a name, by email: the people of an emulated workspace. */
export async function listPeople(db: Db): Promise<Array<{ email: string; name: string; timezone: string | null }>> {
  return db("people").select("email", "name", "timezone").orderBy("email");
}

/** The channels programs post their summaries to, each once. */
export async function listAdminChannels(db: Db): Promise<string[]> {
  const channels = await db("programs").whereNotNull("admin_channel").distinct("admin_channel").pluck("admin_channel");
  return channels.filter((c): c is string => c !== null);
}
