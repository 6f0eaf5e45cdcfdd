import { scopedInstallation } from "../slack/installation-scope.js";
import { sleep } from "../slack/retry.js";

/**
 * How far behind the clock a slot may be taken: a stall of the event loop this long (a synchronous
 * SQLite read, a garbage collection) loses no slot, the posts it held go at once after it. Any span
 * then has at most this much of the rate's posts more than its length allows, as a token bucket
 * would (Slack's limits are per minute and tolerate short bursts); at Slack's own rates, a post or two.
 */
export const CATCH_UP_MS = 250;

/**
 * Spaces posts evenly at the workspace rate, at most one a second per channel, and holds every
 * sender after a 429 until its Retry-After has passed: we stay under Slack's limits instead of
 * bouncing off them.
 */
export class Pacer {
  private next = 0;
  private pausedUntil = 0;
  /** 429s seen so far: a sender knows whether one came back while it slept. */
  private pauses = 0;
  private readonly perChannel = new Map<string, number>();
  private interval: number;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.interval = 60_000 / perMinute;
  }

  /** Several instances posting at once each take their share of the workspace rate. */
  share(instances: number): void {
    this.interval = (60_000 * Math.max(1, instances)) / this.perMinute;
  }

  /** How long a 429 still holds every sender (ms; 0 when none does). */
  heldFor(): number {
    return Math.max(0, this.pausedUntil - this.now());
  }

  /** `giveUp`: asked again each time a 429 comes back while the sender slept; true, and it returns at once. */
  async take(channel: string, giveUp?: () => boolean): Promise<void> {
    for (;;) {
      if (giveUp?.()) return;
      const pauses = this.pauses;
      const t = this.now();
      // A pacer that has not posted yet has missed no slot: its first post opens the pace.
      const slot = Math.max(
        this.next ? t - CATCH_UP_MS : t,
        this.next,
        this.pausedUntil,
        this.perChannel.get(channel) ?? 0,
      );
      this.next = slot + this.interval;
      // A channel's second counts from when its post goes, never from a slot caught up from the past.
      this.perChannel.set(channel, Math.max(slot, t) + 1000);
      if (this.perChannel.size > 10_000)
        for (const [c, until] of this.perChannel) if (until < t) this.perChannel.delete(c);
      if (slot > t) await sleep(slot - t);
      // A 429 that came back while this sender slept holds it too: it takes a new slot after the pause,
      // so the senders held resume one interval apart instead of all at once.
      if (this.pauses === pauses || this.pausedUntil <= slot) return;
    }
  }

  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
    this.pauses++;
  }
}

/**
 * One pacer per workspace (§16): Slack's limits are each workspace's, so is our pace, and a 429 holds
 * only the senders of the workspace that answered it. The key is the installation's id; "" is the one
 * workspace of SLACK_BOT_TOKEN.
 */
export class Pacers {
  private readonly byTeam = new Map<string, Pacer>();
  private instances = 1;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  for(team: string | undefined): Pacer {
    const key = team ?? "";
    let p = this.byTeam.get(key);
    if (!p) {
      p = new Pacer(this.perMinute, this.now);
      p.share(this.instances);
      this.byTeam.set(key, p);
    }
    return p;
  }

  /** The pacer of the installation whose request is being answered (a nudge, §18); SLACK_BOT_TOKEN's otherwise. */
  ofRequest(): Pick<Pacer, "take" | "pause"> {
    return {
      take: (channel, giveUp) => this.for(scopedInstallation()).take(channel, giveUp),
      pause: (ms) => this.for(scopedInstallation()).pause(ms),
    };
  }

  /** Every instance posts to every workspace: each takes its share of each workspace's rate. */
  share(instances: number): void {
    this.instances = instances;
    for (const p of this.byTeam.values()) p.share(instances);
  }
}
