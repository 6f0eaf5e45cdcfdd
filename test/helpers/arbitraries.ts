import fc from "fast-check";
import type { MentorMatch, MentorRequest, Program, ReportInput } from "../../src/domain/types.js";

const T0 = Date.UTC(2025, 0, 1);
const DAY = 86_400_000;
const instant = fc.integer({ min: 0, max: 700 }).map((d) => T0 + d * DAY);
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null, freq: 2 });
/** Which enrollment a match or request belongs to (by index); null: a mentor who is not enrolled there. */
const enrolledPick = fc.option(fc.nat(), { nil: null, freq: 6 });

export const programArb = (id: string): fc.Arbitrary<Program> =>
  fc.record({
    id: fc.constant(id),
    name: fc.constant(`Program ${id}`),
    matchDurationMonths: fc.integer({ min: 1, max: 12 }),
    requiresMentorApproval: fc.boolean(),
    requiresMenteeApproval: fc.boolean(),
    requiresAdminApproval: fc.boolean(),
    adminChannel: fc.constant(null),
    adminEmails: fc.constant([]),
  });

/** A random company slice: up to 3 programs, 8 mentors, and their matches and requests. */
export const reportInputArb: fc.Arbitrary<ReportInput> = fc
  .record({
    programs: fc.tuple(programArb("a"), programArb("b"), programArb("c")),
    enrollments: fc.uniqueArray(
      fc.record({
        programId: fc.constantFrom("a", "b", "c"),
        mentor: fc.integer({ min: 0, max: 7 }),
        registeredAt: maybe(instant),
      }),
      { selector: (e) => `${e.programId}/${e.mentor}`, maxLength: 16 },
    ),
    matches: fc.array(
      fc.record({
        enrolled: enrolledPick,
        programId: fc.constantFrom("a", "b", "c"),
        mentor: fc.integer({ min: 0, max: 7 }),
        matchedAt: instant,
        closeAfter: maybe(fc.integer({ min: 0, max: 400 })),
        up: fc.nat(5),
        done: fc.nat(5),
      }),
      { maxLength: 20 },
    ),
    requests: fc.array(
      fc.record({
        enrolled: enrolledPick,
        programId: fc.constantFrom("a", "b", "c"),
        mentor: fc.integer({ min: 0, max: 7 }),
        requestedAt: instant,
        mentorApprovedAt: maybe(instant),
        menteeApprovedAt: maybe(instant),
        adminApprovedAt: maybe(instant),
        closedAt: maybe(instant),
      }),
      { maxLength: 20 },
    ),
  })
  .map(({ programs, enrollments, matches, requests }) => {
    // Most matches and requests belong to an enrolled mentor (else they never show); a few to nobody's.
    const owner = <T extends { enrolled: number | null; programId: string; mentor: number }>(x: T) => {
      const e = x.enrolled === null || enrollments.length === 0 ? null : enrollments[x.enrolled % enrollments.length]!;
      return e ? { ...x, programId: e.programId, mentor: e.mentor } : x;
    };
    return { programs, enrollments, matches: matches.map(owner), requests: requests.map(owner) };
  })
  .map(({ programs, enrollments, matches, requests }) => ({
    programs: [...programs],
    enrollments: enrollments.map((e) => ({
      programId: e.programId,
      email: `mentor${e.mentor}@x.io`,
      name: `Mentor ${e.mentor}`,
      organization: `Org ${e.mentor % 3}`,
      managerEmail: `boss${e.mentor % 2}@x.io`,
      registeredAt: e.registeredAt,
    })),
    matches: matches.map(
      (m, i): MentorMatch => ({
        id: `m${i}`,
        programId: m.programId,
        mentorEmail: `mentor${m.mentor}@x.io`,
        matchedAt: m.matchedAt,
        closedAt: m.closeAfter === null ? null : m.matchedAt + m.closeAfter * DAY,
        upcomingMeetings: m.up,
        completedMeetings: m.done,
      }),
    ),
    requests: requests.map(
      (r, i): MentorRequest => ({
        id: `r${i}`,
        programId: r.programId,
        mentorEmail: `mentor${r.mentor}@x.io`,
        requestedAt: r.requestedAt,
        mentorApprovedAt: r.mentorApprovedAt,
        menteeApprovedAt: r.menteeApprovedAt,
        adminApprovedAt: r.adminApprovedAt,
        closedAt: r.closedAt,
      }),
    ),
  }));

export const asOfArb = instant.chain((d) => fc.integer({ min: 0, max: DAY - 1 }).map((ms) => d + ms));
