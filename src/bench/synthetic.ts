import { once } from "node:events";
import { createWriteStream, mkdirSync } from "node:fs";
import { join } from "node:path";
import { prng } from "../random.js";

export interface CompanySize {
  people: number;
  managers: number;
  mentorEnrollments: number;
  matches: number;
  requests: number;
  meetings: number;
  /** One manager with this many direct reports, all mentors (for slash-command latency). */
  bigTeam?: number;
  seed?: number;
}

export const SIZES: Record<"small" | "medium" | "full" | "huge", CompanySize> = {
  small: {
    people: 2_000,
    managers: 200,
    mentorEnrollments: 800,
    matches: 600,
    requests: 400,
    meetings: 6_000,
    bigTeam: 1_000,
  },
  medium: {
    people: 20_000,
    managers: 2_000,
    mentorEnrollments: 8_000,
    matches: 6_000,
    requests: 4_000,
    meetings: 60_000,
    bigTeam: 1_000,
  },
  full: {
    people: 100_000,
    managers: 10_000,
    mentorEnrollments: 40_000,
    matches: 30_000,
    requests: 20_000,
    meetings: 300_000,
    bigTeam: 1_000,
  },
  /** The largest employers: a million people, a hundred thousand managers. */
  huge: {
    people: 1_000_000,
    managers: 100_000,
    mentorEnrollments: 400_000,
    matches: 300_000,
    requests: 200_000,
    meetings: 3_000_000,
    bigTeam: 1_000,
  },
};

export const PROGRAMS = [
  { id: "eng", name: "Engineering Mentorship", months: 6, mentor: true, mentee: true, admin: true },
  { id: "lead", name: "Leadership Circle", months: 3, mentor: false, mentee: true, admin: false },
  { id: "buddy", name: "New Hire Buddies", months: 2, mentor: true, mentee: false, admin: false },
];

export const BIG_MANAGER = "manager.big@corp.example";
export const emailOf = (i: number) => `person.${i}@corp.example`;

class CsvOut {
  private buf: string[] = [];
  private stream;
  rows = 0;
  constructor(path: string, header: string) {
    this.stream = createWriteStream(path);
    this.buf.push(header);
  }
  async row(line: string) {
    this.buf.push(line);
    this.rows++;
    if (this.buf.length >= 5000) await this.flush();
  }
  private async flush() {
    if (!this.stream.write(this.buf.join("\n") + "\n")) await once(this.stream, "drain");
    this.buf = [];
  }
  async close() {
    if (this.buf.length) await this.flush();
    this.stream.end();
    await once(this.stream, "finish");
  }
}

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19) + "Z";
const date = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Writes a deterministic synthetic company (same seed, same files) as the six CSV exports. Mentees
 * are people too, enrolled as mentees; their emails stand in matches and requests like real ones.
 */
export async function writeCompany(dir: string, size: CompanySize): Promise<Record<string, number>> {
  mkdirSync(dir, { recursive: true });
  const rnd = prng(size.seed ?? 42);
  const pick = (n: number) => Math.floor(rnd() * n);
  const T0 = Date.UTC(2025, 0, 1);

  const programs = new CsvOut(
    join(dir, "programs.csv"),
    "program_id,name,match_duration_months,requires_mentor_approval,requires_mentee_approval,requires_admin_approval,admin_channel,admin_emails",
  );
  for (const p of PROGRAMS)
    await programs.row(
      `${p.id},${p.name},${p.months},${p.mentor},${p.mentee},${p.admin},#mentorship-${p.id},${emailOf(1)}`,
    );
  await programs.close();

  // People 0..managers-1 are managers in a tree under person 0; the rest report to a random manager.
  const big = size.bigTeam ?? 0;
  const people = new CsvOut(join(dir, "people.csv"), "email,name,organization,manager_email");
  const orgs = ["Engineering", "Sales", "Operations", "Finance", "People"];
  await people.row(`${emailOf(0)},Person 0,Executive,`);
  for (let i = 1; i < size.people; i++) {
    const manager = i < size.managers ? pick(i) : i < size.managers + big ? -1 : pick(size.managers);
    await people.row(
      `${emailOf(i)},Person ${i},${orgs[i % orgs.length]},${manager === -1 ? BIG_MANAGER : emailOf(manager)}`,
    );
  }
  if (big) await people.row(`${BIG_MANAGER},Big Team Manager,Engineering,${emailOf(0)}`);
  await people.close();

  // Mentors: half the big team (in eng), then random people; mentees from the other end of the roster.
  const bigMentors = Math.min(Math.floor(big / 2), Math.floor(size.mentorEnrollments / 4));
  const enrollments = new CsvOut(join(dir, "enrollments.csv"), "program_id,email,role,added_at,registered_at");
  const mentors: Array<[number, number]> = [];
  const seen = new Set<string>();
  for (let k = 0; k < size.mentorEnrollments; k++) {
    let person: number;
    let prog: number;
    do {
      person = k < bigMentors ? size.managers + 2 * k : pick(size.people);
      prog = k < bigMentors ? 0 : pick(PROGRAMS.length);
    } while (seen.has(`${prog}:${person}`));
    seen.add(`${prog}:${person}`);
    mentors.push([prog, person]);
    const added = T0 + pick(400) * DAY;
    const registered = rnd() < 0.85 ? date(added + pick(20) * DAY) : "";
    await enrollments.row(`${PROGRAMS[prog]!.id},${emailOf(person)},mentor,${date(added)},${registered}`);
  }
  const menteesPerProgram = Math.max(1, Math.ceil(size.mentorEnrollments / PROGRAMS.length));
  const menteeOf = (prog: number, k: number) => size.people - 1 - ((prog * menteesPerProgram + k) % size.people);
  for (let prog = 0; prog < PROGRAMS.length; prog++) {
    for (let k = 0; k < menteesPerProgram; k++) {
      const person = menteeOf(prog, k);
      if (seen.has(`${prog}:${person}`)) continue;
      seen.add(`${prog}:${person}`);
      await enrollments.row(`${PROGRAMS[prog]!.id},${emailOf(person)},mentee,${date(T0)},${date(T0 + DAY)}`);
    }
  }
  await enrollments.close();
  const menteeFor = (prog: number) => {
    for (;;) {
      const p = menteeOf(prog, pick(menteesPerProgram));
      if (!mentorsSet.has(`${prog}:${p}`)) return p;
    }
  };
  const mentorsSet = new Set(mentors.map(([p, m]) => `${p}:${m}`));

  const matches = new CsvOut(
    join(dir, "matches.csv"),
    "match_id,program_id,mentor_email,mentee_email,matched_at,closed_at",
  );
  const matchIds: Array<{ id: string; at: number }> = [];
  for (let k = 0; k < size.matches; k++) {
    const [prog, person] = mentors[pick(mentors.length)]!;
    const at = T0 + (150 + pick(420)) * DAY;
    const closed = rnd() < 0.3 ? iso(at + (10 + pick(200)) * DAY) : "";
    const id = `m${k}`;
    matchIds.push({ id, at });
    await matches.row(
      `${id},${PROGRAMS[prog]!.id},${emailOf(person)},${emailOf(menteeFor(prog))},${iso(at)},${closed}`,
    );
  }
  await matches.close();

  const requests = new CsvOut(
    join(dir, "match_requests.csv"),
    "request_id,program_id,mentor_email,mentee_email,requested_at,mentor_approved_at,mentee_approved_at,admin_approved_at,closed_at",
  );
  for (let k = 0; k < size.requests; k++) {
    const [prog, person] = mentors[pick(mentors.length)]!;
    const at = T0 + (300 + pick(300)) * DAY;
    const maybe = (p: number) => (rnd() < p ? iso(at + pick(10) * DAY) : "");
    await requests.row(
      `r${k},${PROGRAMS[prog]!.id},${emailOf(person)},${emailOf(menteeFor(prog))},${iso(at)},${maybe(0.5)},${maybe(0.5)},${maybe(0.3)},${rnd() < 0.1 ? iso(at + 30 * DAY) : ""}`,
    );
  }
  await requests.close();

  const meetings = new CsvOut(join(dir, "meetings.csv"), "meeting_id,match_id,scheduled_at,cancelled_at");
  for (let k = 0; k < size.meetings && matchIds.length; k++) {
    const m = matchIds[pick(matchIds.length)]!;
    const at = m.at + pick(180) * DAY;
    await meetings.row(`mt${k},${m.id},${iso(at)},${rnd() < 0.1 ? iso(at - DAY) : ""}`);
  }
  await meetings.close();
  return {
    programs: PROGRAMS.length,
    people: people.rows,
    enrollments: enrollments.rows,
    matches: matches.rows,
    requests: requests.rows,
    meetings: meetings.rows,
  };
}
