import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import { prng } from "../random.js";
import { blockErrors } from "./block-limits.js";
import { buildTenants, consentPage, type EmulatedOrg, type EmulatedWorkspace, type Tenant } from "./workspaces.js";

const ACK_TIMEOUT_MS = 10_000;

export interface EmulatedUser {
  id: string;
  email: string;
  name: string;
  deleted?: boolean;
  isBot?: boolean;
  /** The profile's zone (IANA), as Slack's user object carries it in `tz`. */
  tz?: string;
}

export interface EmulatedChannel {
  id: string;
  name: string;
  /** False: the bot may not post there (`not_in_channel`). */
  botCanPost?: boolean;
}

export interface EmulatorOptions {
  token?: string;
  /** The app-level token (Socket Mode) that apps.connections.open accepts. */
  appToken?: string;
  users?: EmulatedUser[];
  channels?: EmulatedChannel[];
  /** Per-method limits in calls a minute; a method not named is not limited. */
  methodLimits?: Record<string, number>;
  /** Slack's one message a second per channel. Default on. */
  perChannelLimit?: boolean;
  /** Accept `table` and `data_visualization` blocks. Default on. */
  newBlocks?: boolean;
  /** Accept `data_table` blocks too (with `newBlocks`). Default on. */
  dataTable?: boolean;
  /** Answer this share of calls with 429 or 5xx, from a seeded generator. */
  faults?: { probability: number; seed?: number; methods?: string[] };
  /** Hold each response this long (ms), so a test can act while a call is in flight. */
  responseDelayMs?: number;
  /**
   * Record calls without their parameters and messages without text and blocks: a benchmark of a
   * large company measures the app, not the emulator's record of every report.
   */
  lean?: boolean;
  /** More workspaces beside the default one (§16), each with its own token, users, channels and rate limits. */
  workspaces?: EmulatedWorkspace[];
  /** A Grid org over the workspaces that name it, with one org-wide token. */
  org?: EmulatedOrg;
  /** The app's OAuth credentials oauth.v2.access checks; defaults are the emulator's own. */
  oauth?: { clientId: string; clientSecret: string };
}

export interface RecordedCall {
  method: string;
  params: Record<string, unknown>;
  at: number;
  status: number;
  ok: boolean;
  error?: string;
  /** Whose token the call carried: a workspace's team id or an org's enterprise id (T0EMULATED by default). */
  via?: string;
}

export interface PostedMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: unknown[] | undefined;
  metadata: { event_type: string; event_payload: Record<string, unknown> } | undefined;
  /** The user a DM went to. */
  user?: string;
  /** The message this one answers in a thread. */
  thread_ts?: string;
  /** The workspace the message landed in, and whose token posted it (a team or an org). */
  team?: string;
  via?: string;
}

/** A file in the emulated workspace: one a user shared (the app may download it) or one the app uploaded. */
export interface EmulatedFile {
  id: string;
  name: string;
  content: Buffer;
  /** The user who shared it; the bot for the app's own uploads. */
  user: string;
}

/** A files.completeUploadExternal call: where the app's files were shared. */
export interface SharedUpload {
  channel: string;
  thread_ts?: string;
  initialComment?: string;
  files: EmulatedFile[];
}

export interface SlashResponse {
  path: string;
  body: Record<string, unknown>;
  at: number;
}

export interface PublishedView {
  userId: string;
  view: Record<string, unknown>;
}

/**
 * The Slack Web API as far as this app uses it, on loopback: the same request forms (form-encoded or
 * JSON), response and error shapes, token check, Block Kit limits, rate limits with Retry-After, and a
 * record of every call for assertions.
 */
export class SlackEmulator extends EventEmitter {
  readonly token: string;
  readonly appToken: string;
  private sockets = new Set<WebSocket>();
  private wss: WebSocketServer | null = null;
  private acks = new Map<string, (payload: unknown) => void>();
  readonly calls: RecordedCall[] = [];
  readonly messages: PostedMessage[] = [];
  readonly responses: SlashResponse[] = [];
  readonly views: PublishedView[] = [];
  readonly files = new Map<string, EmulatedFile>();
  readonly uploads: SharedUpload[] = [];
  /** Every GET of a file's download URL, with whether it carried the bot token. */
  readonly downloads: Array<{ fileId: string; authorized: boolean }> = [];
  private fileCounter = 0;
  /** Where files.info says the files are; by default here. A test sets another host to check the token stays home. */
  fileUrlBase: string | null = null;
  private users: EmulatedUser[];
  private channels: EmulatedChannel[];
  private server: Server | null = null;
  private tsCounter = 0;
  private buckets = new Map<string, { tokens: number; at: number }>();
  private lastPostByChannel = new Map<string, number>();
  /**
   * Each roster's users by id and by email, built on first use: a post to one of a million users must not
   * scan them all. Keyed by the array, which is replaced (never changed in place) when users come or go.
   */
  private readonly rosterIndex = new WeakMap<
    EmulatedUser[],
    { byId: Map<string, EmulatedUser>; byEmail: Map<string, EmulatedUser> }
  >();
  private random: () => number;
  private htmlAnswers: { methods: string[]; count: number; afterWork?: boolean } | null = null;
  private readonly tenants: Tenant[];
  private readonly teamOf: Map<string, string>;
  /** Tokens Slack would accept now: uninstalling erases one, a new install (oauth.v2.access) brings it back. */
  private readonly revoked = new Set<string>();
  private readonly codes = new Map<string, { tenant: Tenant; redirectUri: string | null }>();
  /** Workspaces answering every call with 429 until then (ms). */
  private readonly holds = new Map<string, number>();
  url = "";
  port = 0;

  constructor(private readonly opts: EmulatorOptions = {}) {
    super();
    // Fresh each run: a token someone saw once (a log, a shell history) does not open the next run's roster.
    this.token = opts.token ?? `xoxb-emulator-${randomBytes(12).toString("hex")}`;
    this.appToken = opts.appToken ?? `xapp-emulator-${randomBytes(12).toString("hex")}`;
    this.users = opts.users ?? [];
    this.channels = opts.channels ?? [];
    this.random = prng(opts.faults?.seed ?? 1);
    ({ tenants: this.tenants, teamOf: this.teamOf } = buildTenants(opts.workspaces ?? [], opts.org));
  }

  setFaults(faults: EmulatorOptions["faults"]): void {
    this.opts.faults = faults;
    this.random = prng(faults?.seed ?? 1);
  }

  /**
   * The next `count` calls of these methods get a 200 with an HTML body, as a proxy's error page
   * would be; with `afterWork` the call takes effect first (the post went out, the answer was lost).
   */
  setHtmlAnswers(opts: { methods: string[]; count: number; afterWork?: boolean }): void {
    this.htmlAnswers = { ...opts };
  }

  setResponseDelay(ms: number): void {
    this.opts.responseDelayMs = ms;
  }

  setUsers(users: EmulatedUser[]): void {
    this.users = users;
  }

  /** Someone who joins the workspace (or is already in it): their user id. */
  addUser(email: string, name = email.split("@")[0] ?? email): string {
    const known = this.userIdOf(email);
    if (known) return known;
    const id = `U0X${String(this.users.length + 1).padStart(6, "0")}`;
    this.users = [...this.users, { id, email, name }];
    return id;
  }

  get userCount(): number {
    return this.users.length;
  }

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 60_000;
    // Socket Mode: the URL apps.connections.open hands out; Slack says hello, then sends envelopes.
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on("upgrade", (req, socket, head) => {
      if (!req.url?.startsWith("/socket")) return socket.destroy();
      this.wss!.handleUpgrade(req, socket, head, (ws) => {
        this.sockets.add(ws);
        ws.on("close", () => this.sockets.delete(ws));
        ws.on("message", (data) => {
          const msg = safeJson(String(data)) as { envelope_id?: string; payload?: unknown };
          if (msg?.envelope_id) this.acks.get(msg.envelope_id)?.(msg.payload);
        });
        ws.send(
          JSON.stringify({
            type: "hello",
            num_connections: this.sockets.size,
            connection_info: { app_id: "A0EMULATED" },
          }),
        );
        this.emit("socket", ws);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}/api/`;
    return this;
  }

  /** Sends an envelope to a connected Socket Mode client; resolves with its ack and how long it took. */
  async sendEnvelope(type: string, payload: Record<string, unknown>): Promise<{ ackMs: number; payload: unknown }> {
    const ws = [...this.sockets][0];
    if (!ws) throw new Error("no Socket Mode client is connected");
    const envelopeId = randomUUID();
    const started = performance.now();
    // An app with no listener for an envelope never acks it; Slack gives up after 3 s, so do we (later).
    let timer: NodeJS.Timeout | undefined;
    const acked = new Promise<unknown>((resolve, reject) => {
      this.acks.set(envelopeId, resolve);
      timer = setTimeout(() => reject(new Error("the app did not acknowledge it within 10 s")), ACK_TIMEOUT_MS);
    });
    ws.send(
      JSON.stringify({ envelope_id: envelopeId, type, payload, accepts_response_payload: type === "slash_commands" }),
    );
    const ackPayload = await acked.finally(() => {
      clearTimeout(timer);
      this.acks.delete(envelopeId);
    });
    return { ackMs: performance.now() - started, payload: ackPayload };
  }

  get socketClients(): number {
    return this.sockets.size;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    for (const ws of this.sockets) ws.terminate();
    this.wss?.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = null;
  }

  /** A response_url for a slash command, served by this emulator. */
  responseUrl(id: string): string {
    return `http://127.0.0.1:${this.port}/response/${id}`;
  }

  userIdOf(email: string): string | undefined {
    const match = (u: EmulatedUser) => u.email.toLowerCase() === email.toLowerCase();
    return (this.users.find(match) ?? this.tenants.flatMap((t) => t.users).find(match))?.id;
  }

  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  private async readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const type = req.headers["content-type"] ?? "";
    if (type.includes("application/json")) return raw ? JSON.parse(raw) : {};
    const out: Record<string, unknown> = {};
    for (const [k, v] of new URLSearchParams(raw)) {
      // The SDK sends objects and arrays as JSON strings inside the form.
      out[k] = /^[[{]/.test(v) ? safeJson(v) : v;
    }
    return out;
  }

  private take(key: string, perMinute: number): number {
    const now = Date.now();
    const capacity = Math.max(1, Math.ceil(perMinute / 60));
    const b = this.buckets.get(key) ?? { tokens: capacity, at: now };
    b.tokens = Math.min(capacity, b.tokens + ((now - b.at) * perMinute) / 60_000);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) * 60_000) / perMinute / 1000);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname.startsWith("/files-pri/")) return this.serveFile(req, res, url.pathname);
    if (url.pathname.startsWith("/upload/")) return this.receiveUpload(req, res, url.pathname);
    if (url.pathname === "/oauth/v2/authorize") return this.authorizePage(res, url);
    let params: Record<string, unknown> = {};
    try {
      params = await this.readBody(req);
    } catch {
      return this.send(res, 400, { ok: false, error: "invalid_json" });
    }
    if (url.pathname.startsWith("/response/")) {
      const errors = params.blocks
        ? blockErrors(params.blocks, {
            maxBlocks: 50,
            newBlocks: this.opts.newBlocks !== false,
            dataTable: this.opts.dataTable !== false,
          })
        : [];
      this.responses.push({ path: url.pathname, body: params, at: Date.now() });
      this.emit("response", params);
      return this.send(
        res,
        errors.length ? 400 : 200,
        errors.length ? { ok: false, error: "invalid_blocks", errors } : { ok: true },
      );
    }
    const method = url.pathname.replace(/^\/api\//, "");
    const record: RecordedCall = {
      method,
      params: this.opts.lean ? {} : params,
      at: Date.now(),
      status: 200,
      ok: false,
    };
    const auth = (req.headers.authorization ?? "").replace(/^Bearer\s+/i, "") || (params.token as string | undefined);
    const tenant = auth ? this.tenantOf(auth) : null;
    if (tenant && tenant.kind !== "default") record.via = tenant.id;
    this.calls.push(record);
    this.emit("call", record);

    const fault = this.opts.faults;
    if (fault && (!fault.methods || fault.methods.includes(method)) && this.random() < fault.probability) {
      const kind = this.random();
      if (kind < 0.5) return this.finish(res, record, 429, { ok: false, error: "ratelimited" }, { "Retry-After": "1" });
      // Half the server errors happen after the work is done, as a lost response would.
      if (kind < 0.75) this.dispatch(method, params, tenant ?? this.home());
      return this.finish(res, record, 503, { ok: false, error: "service_unavailable" });
    }

    const html = this.htmlAnswers;
    if (html && html.count > 0 && html.methods.includes(method)) {
      html.count--;
      if (html.afterWork) this.dispatch(method, params, tenant ?? this.home());
      record.status = 200;
      record.error = "html";
      if (!res.destroyed) {
        res.writeHead(200, { "Content-Type": "text/html" });
        res.end("<html><body><h1>502 Bad Gateway</h1></body></html>");
      }
      this.emit("responded", record);
      return;
    }

    if (method === "oauth.v2.access") return this.finish(res, record, 200, this.oauthAccess(req, params));
    if (method === "api.test") return this.finish(res, record, 200, { ok: true, args: {} });
    if (!auth) return this.finish(res, record, 200, { ok: false, error: "not_authed" });
    if (method === "apps.connections.open" ? auth !== this.appToken : !tenant)
      return this.finish(res, record, 200, { ok: false, error: "invalid_auth" });
    if (this.revoked.has(auth)) return this.finish(res, record, 200, { ok: false, error: "token_revoked" });
    const heldFor = tenant ? (this.holds.get(tenant.id) ?? 0) - Date.now() : 0;
    if (heldFor > 0)
      return this.finish(
        res,
        record,
        429,
        { ok: false, error: "ratelimited" },
        { "Retry-After": String(Math.ceil(heldFor / 1000)) },
      );

    const limit = this.opts.methodLimits?.[method];
    if (limit) {
      // Slack's limits are per workspace: each tenant has its own buckets.
      const wait = this.take(tenant && tenant.kind !== "default" ? `${tenant.id}:${method}` : method, limit);
      if (wait)
        return this.finish(res, record, 429, { ok: false, error: "ratelimited" }, { "Retry-After": String(wait) });
    }
    if (method === "chat.postMessage" && this.opts.perChannelLimit !== false) {
      const ch = String(params.channel ?? "");
      const last = this.lastPostByChannel.get(ch);
      if (last !== undefined && Date.now() - last < 1000)
        return this.finish(res, record, 429, { ok: false, error: "ratelimited" }, { "Retry-After": "1" });
    }
    const result = this.dispatch(method, params, tenant ?? this.home());
    await this.finish(res, record, 200, result);
  }

  private async finish(
    res: ServerResponse,
    record: RecordedCall,
    status: number,
    body: Record<string, unknown>,
    headers: Record<string, string> = {},
  ) {
    record.status = status;
    record.ok = body.ok === true;
    if (typeof body.error === "string") record.error = body.error;
    if (this.opts.responseDelayMs) await new Promise((r) => setTimeout(r, this.opts.responseDelayMs));
    this.send(res, status, body, headers);
    this.emit("responded", record);
  }

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    if (res.destroyed) return;
    res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", ...headers });
    res.end(JSON.stringify(body));
  }

  private indexOf(users: EmulatedUser[]) {
    let index = this.rosterIndex.get(users);
    if (!index) {
      index = { byId: new Map(), byEmail: new Map() };
      for (const u of users) {
        if (!index.byId.has(u.id)) index.byId.set(u.id, u);
        const email = u.email.toLowerCase();
        if (!index.byEmail.has(email)) index.byEmail.set(email, u);
      }
      this.rosterIndex.set(users, index);
    }
    return index;
  }

  private userById(id: string, ws: Tenant = this.home()) {
    return this.indexOf(ws.users).byId.get(id);
  }

  private dmChannelOf(userId: string): string {
    return `D${userId.replace(/^[UW]/, "")}`;
  }

  private resolveChannel(ch: string, ws: Tenant = this.home()): { id: string; user?: string } | { error: string } {
    if (/^[UW]/.test(ch)) {
      const u = this.userById(ch, ws);
      if (!u) return { error: "channel_not_found" };
      if (u.deleted) return { error: "user_disabled" };
      return { id: this.dmChannelOf(ch), user: ch };
    }
    if (ch.startsWith("D")) {
      // A DM's id is its user's with D for U or W.
      const u = this.userById(`U${ch.slice(1)}`, ws) ?? this.userById(`W${ch.slice(1)}`, ws);
      return u ? { id: ch, user: u.id } : { error: "channel_not_found" };
    }
    const c = ws.channels.find((x) => x.id === ch || `#${x.name}` === ch || x.name === ch);
    if (!c) return { error: "channel_not_found" };
    if (c.botCanPost === false) return { error: "not_in_channel" };
    return { id: c.id };
  }

  private dispatch(method: string, p: Record<string, unknown>, ws: Tenant): Record<string, unknown> {
    const newBlocks = this.opts.newBlocks !== false;
    const dataTable = this.opts.dataTable !== false;
    // An org token reaches many workspaces: the calls that list a workspace need to be told which (§16).
    if (ws.kind === "org" && (method === "users.list" || method === "conversations.list")) {
      const team = ws.teams.find((t) => t.id === p.team_id);
      if (!team) return { ok: false, error: p.team_id ? "team_access_not_granted" : "missing_argument" };
      const users = ws.users.filter((u) => this.teamOf.get(u.id) === team.id);
      const channels = ws.channels.filter((c) => this.teamOf.get(c.id) === team.id);
      ws = { ...ws, users, channels };
    }
    switch (method) {
      case "apps.connections.open":
        return { ok: true, url: `ws://127.0.0.1:${this.port}/socket` };
      case "auth.teams.list":
        return { ok: true, teams: ws.teams, response_metadata: { next_cursor: "" } };
      case "auth.test":
        if (ws.kind !== "default") return this.authTest(ws);
        return {
          ok: true,
          url: "https://emulated.slack.com/",
          team: "Emulated",
          user: "mentorship-bot",
          team_id: "T0EMULATED",
          user_id: "U0BOT",
          bot_id: "B0BOT",
          // Not Slack's: lets the app warn that it talks to an emulator (§15).
          emulator: true,
        };
      case "bots.info":
        return { ok: true, bot: { id: String(p.bot ?? ""), app_id: "A0EMULATED", name: "mentorship-bot" } };
      case "users.list": {
        const limit = Math.min(Number(p.limit ?? 1000) || 1000, 1000);
        const start = Number(p.cursor ? Buffer.from(String(p.cursor), "base64").toString() : 0) || 0;
        const page = ws.users.slice(start, start + limit);
        const next = start + limit < ws.users.length ? Buffer.from(String(start + limit)).toString("base64") : "";
        return { ok: true, members: page.map((u) => this.member(u)), response_metadata: { next_cursor: next } };
      }
      case "users.lookupByEmail": {
        const email = String(p.email ?? "").toLowerCase();
        const u = this.indexOf(ws.users).byEmail.get(email);
        // Slack answers users_not_found for deactivated users too.
        return !u || u.deleted ? { ok: false, error: "users_not_found" } : { ok: true, user: this.member(u) };
      }
      case "users.info": {
        const u = this.userById(String(p.user ?? ""), ws);
        return u ? { ok: true, user: this.member(u) } : { ok: false, error: "user_not_found" };
      }
      case "conversations.open": {
        const ids = String(p.users ?? "")
          .split(",")
          .filter(Boolean);
        const u = ids.length === 1 ? this.userById(ids[0]!, ws) : undefined;
        if (!u) return { ok: false, error: "user_not_found" };
        if (u.deleted) return { ok: false, error: "user_disabled" };
        return { ok: true, channel: { id: this.dmChannelOf(u.id) } };
      }
      case "conversations.list":
        return {
          ok: true,
          channels: ws.channels.map((c) => ({ id: c.id, name: c.name, is_member: c.botCanPost !== false })),
          response_metadata: { next_cursor: "" },
        };
      case "conversations.history": {
        const ch = this.resolveChannel(String(p.channel ?? ""), ws);
        if ("error" in ch) return { ok: false, error: ch.error };
        const oldest = Number(p.oldest ?? 0);
        const withMeta = p.include_all_metadata === true || p.include_all_metadata === "true";
        const msgs = this.messages
          .filter((m) => m.channel === ch.id && Number(m.ts) >= oldest)
          .reverse()
          .slice(0, Number(p.limit ?? 100) || 100)
          .map((m) => ({
            type: "message",
            ts: m.ts,
            text: m.text,
            bot_id: "B0BOT",
            ...(withMeta && m.metadata ? { metadata: m.metadata } : {}),
          }));
        return { ok: true, messages: msgs, has_more: false };
      }
      case "chat.postMessage": {
        const ch = this.resolveChannel(String(p.channel ?? ""), ws);
        if ("error" in ch) return { ok: false, error: ch.error };
        if (!p.text && !p.blocks) return { ok: false, error: "no_text" };
        if (typeof p.text === "string" && p.text.length > 40000) return { ok: false, error: "msg_too_long" };
        if (p.blocks !== undefined) {
          const errors = blockErrors(p.blocks, { maxBlocks: 50, newBlocks, dataTable });
          if (errors.length)
            return { ok: false, error: "invalid_blocks", errors, response_metadata: { messages: errors } };
        }
        const ts = `${Math.floor(Date.now() / 1000)}.${String(++this.tsCounter).padStart(6, "0")}`;
        const msg: PostedMessage = {
          channel: ch.id,
          ts,
          text: this.opts.lean ? "" : String(p.text ?? ""),
          blocks: this.opts.lean ? undefined : (p.blocks as unknown[] | undefined),
          metadata: p.metadata as PostedMessage["metadata"],
          user: ch.user,
          ...(p.thread_ts ? { thread_ts: String(p.thread_ts) } : {}),
          ...(ws.kind === "default" ? {} : { team: this.teamOf.get(ch.user ?? ch.id), via: ws.id }),
        };
        this.messages.push(msg);
        this.lastPostByChannel.set(String(p.channel), Date.now());
        this.emit("message", msg);
        return { ok: true, channel: ch.id, ts, message: { type: "message", text: msg.text, ts } };
      }
      case "views.publish": {
        const view = p.view as { type?: unknown; blocks?: unknown } | undefined;
        const u = this.userById(String(p.user_id ?? ""), ws);
        if (!u) return { ok: false, error: "user_not_found" };
        if (view?.type !== "home") return { ok: false, error: "invalid_arguments" };
        const errors = blockErrors(view.blocks, { maxBlocks: 100, newBlocks, dataTable });
        if (errors.length)
          return { ok: false, error: "invalid_blocks", errors, response_metadata: { messages: errors } };
        this.views.push({ userId: u.id, view });
        this.emit("view", { userId: u.id, view });
        return { ok: true, view: { id: `V${this.views.length}`, ...view } };
      }
      case "files.info": {
        const f = this.files.get(String(p.file ?? ""));
        return f ? { ok: true, file: this.fileObject(f) } : { ok: false, error: "file_not_found" };
      }
      case "files.getUploadURLExternal": {
        const length = Number(p.length);
        if (!p.filename || !Number.isInteger(length) || length < 0) return { ok: false, error: "invalid_arguments" };
        const id = `F${String(++this.fileCounter).padStart(8, "0")}`;
        this.files.set(id, { id, name: String(p.filename), content: Buffer.alloc(0), user: "U0BOT" });
        return { ok: true, upload_url: `http://127.0.0.1:${this.port}/upload/${id}`, file_id: id };
      }
      case "files.completeUploadExternal": {
        const listed = (Array.isArray(p.files) ? p.files : []) as Array<{ id?: string; title?: string }>;
        const files = listed.map((x) => this.files.get(String(x.id ?? "")));
        if (!files.length || files.some((f) => !f)) return { ok: false, error: "file_not_found" };
        const upload: SharedUpload = { channel: "", files: files as EmulatedFile[] };
        if (p.channel_id) {
          const ch = this.resolveChannel(String(p.channel_id), ws);
          if ("error" in ch) return { ok: false, error: ch.error };
          upload.channel = ch.id;
        }
        if (p.thread_ts) upload.thread_ts = String(p.thread_ts);
        if (p.initial_comment) upload.initialComment = String(p.initial_comment);
        this.uploads.push(upload);
        this.emit("upload", upload);
        return { ok: true, files: upload.files.map((f) => ({ id: f.id, title: f.name })) };
      }
      default:
        return { ok: false, error: "unknown_method" };
    }
  }

  /** The default workspace, whose token is `token` (one workspace, SLACK_BOT_TOKEN). */
  private home(): Tenant {
    return {
      kind: "default",
      id: "T0EMULATED",
      name: "Emulated",
      token: this.token,
      users: this.users,
      channels: this.channels,
      teams: [{ id: "T0EMULATED", name: "Emulated" }],
    };
  }

  private tenantOf(token: string): Tenant | null {
    if (token === this.token) return this.home();
    return this.tenants.find((t) => t.token === token) ?? null;
  }

  /** The workspace a user or channel belongs to (T0EMULATED for the default workspace's). */
  teamOfId(id: string): string {
    return this.teamOf.get(id) ?? "T0EMULATED";
  }

  private authTest(ws: Tenant): Record<string, unknown> {
    const org = ws.kind === "org";
    return {
      ok: true,
      url: org ? `https://${ws.id.toLowerCase()}.enterprise.slack.com/` : `https://${ws.id.toLowerCase()}.slack.com/`,
      team: org ? undefined : ws.name,
      user: "mentorship-bot",
      team_id: org ? undefined : ws.id,
      user_id: "U0BOT",
      bot_id: "B0BOT",
      ...(ws.enterpriseId ? { enterprise_id: ws.enterpriseId } : {}),
      ...(org ? { is_enterprise_install: true } : {}),
    };
  }

  /**
   * Slack's authorize page: without `team` it lists where the app may be installed; with it, the
   * installer has allowed, and is sent back to the app's redirect URL with a one-time code.
   */
  private authorizePage(res: ServerResponse, url: URL): void {
    const q = url.searchParams;
    const oauth = this.oauthCredentials();
    if (q.get("client_id") !== oauth.clientId) {
      res.writeHead(400, { "Content-Type": "text/plain" });
      res.end("invalid client_id");
      return;
    }
    const tenant = this.tenants.find((t) => t.id === q.get("team"));
    if (!tenant) {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      res.end(consentPage(url, this.tenants));
      return;
    }
    const redirectUri = q.get("redirect_uri");
    if (!redirectUri) {
      res.writeHead(400, { "Content-Type": "text/plain" });
      res.end("redirect_uri is missing");
      return;
    }
    const code = `code-${randomUUID()}`;
    this.codes.set(code, { tenant, redirectUri });
    const back = new URL(redirectUri);
    back.searchParams.set("code", code);
    if (q.get("state")) back.searchParams.set("state", q.get("state")!);
    res.writeHead(302, { Location: back.href });
    res.end();
  }

  /** A code the authorize page would hand out: a test installs into `team` (a team or enterprise id) directly. */
  authorizeCode(team: string, redirectUri: string | null = null): string {
    const tenant = this.tenants.find((t) => t.id === team);
    if (!tenant) throw new Error(`the emulator hosts no workspace or org ${team}`);
    const code = `code-${randomUUID()}`;
    this.codes.set(code, { tenant, redirectUri });
    return code;
  }

  private oauthCredentials() {
    return this.opts.oauth ?? { clientId: "1111.2222", clientSecret: "emulator-client-secret" };
  }

  private oauthAccess(req: IncomingMessage, p: Record<string, unknown>): Record<string, unknown> {
    const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? "")?.[1];
    const [id, secret] = basic
      ? Buffer.from(basic, "base64").toString("utf8").split(":")
      : [String(p.client_id ?? ""), String(p.client_secret ?? "")];
    const oauth = this.oauthCredentials();
    if (id !== oauth.clientId) return { ok: false, error: "invalid_client_id" };
    if (secret !== oauth.clientSecret) return { ok: false, error: "bad_client_secret" };
    const grant = this.codes.get(String(p.code ?? ""));
    // A code works once.
    this.codes.delete(String(p.code ?? ""));
    if (!grant) return { ok: false, error: "invalid_code" };
    if (grant.redirectUri && p.redirect_uri !== undefined && p.redirect_uri !== grant.redirectUri)
      return { ok: false, error: "bad_redirect_uri" };
    const t = grant.tenant;
    this.revoked.delete(t.token);
    const org = t.kind === "org";
    return {
      ok: true,
      app_id: "A0EMULATED",
      authed_user: { id: t.users[0]?.id ?? "U0INSTALLER" },
      scope: "chat:write,commands,users:read,users:read.email,im:write,im:history",
      token_type: "bot",
      access_token: t.token,
      bot_user_id: "U0BOT",
      team: org ? null : { id: t.id, name: t.name },
      enterprise: t.enterpriseId ? { id: t.enterpriseId, name: org ? t.name : t.enterpriseId } : null,
      is_enterprise_install: org,
    };
  }

  /** The app is removed from a workspace or org: its token stops working, as after app_uninstalled. */
  uninstall(team: string): void {
    const t = this.tenants.find((x) => x.id === team);
    if (!t) throw new Error(`the emulator hosts no workspace or org ${team}`);
    this.revoked.add(t.token);
  }

  /** Every call with `team`'s token is answered 429 for `ms`, as a workspace at its limit is. */
  holdTeam(team: string, ms: number): void {
    this.holds.set(team, Date.now() + ms);
  }

  /** The token of a workspace or org the emulator hosts. */
  tokenFor(team: string): string {
    const t = this.tenants.find((x) => x.id === team);
    if (!t) throw new Error(`the emulator hosts no workspace or org ${team}`);
    return t.token;
  }

  /** Where a request from `user` comes from: their workspace, and its org when the app is installed org-wide. */
  private originOf(user: string): { team: string; enterprise?: string; orgInstall: boolean } {
    const team = this.teamOfId(user);
    const enterprise = this.opts.workspaces?.find((w) => w.teamId === team)?.enterpriseId;
    return { team, enterprise, orgInstall: !!enterprise && this.opts.org?.enterpriseId === enterprise };
  }

  /** A file as files.info and message events describe it; its download URL is served here. */
  private fileObject(f: EmulatedFile) {
    const base = `${this.fileUrlBase ?? `http://127.0.0.1:${this.port}`}/files-pri/T0EMULATED-${f.id}`;
    return {
      id: f.id,
      name: f.name,
      title: f.name,
      mimetype: f.name.endsWith(".csv") ? "text/csv" : "application/octet-stream",
      filetype: f.name.endsWith(".csv") ? "csv" : "binary",
      size: f.content.length,
      user: f.user,
      url_private: `${base}/${encodeURIComponent(f.name)}`,
      url_private_download: `${base}/download/${encodeURIComponent(f.name)}`,
    };
  }

  /** A file a user shares: returns its id, for `fileShareEvent`. */
  addFile(opts: { name: string; content: string | Buffer; user: string }): string {
    const id = `F${String(++this.fileCounter).padStart(8, "0")}`;
    this.files.set(id, { id, name: opts.name, content: Buffer.from(opts.content), user: opts.user });
    return id;
  }

  /**
   * The `message` event Slack sends when `user` shares these files in their DM with the app
   * (subtype file_share, channel_type im); the files carry only their ids, as with
   * `file_access: check_file_info`, so the app asks files.info.
   */
  fileShareEvent(user: string, fileIds: string[], text = ""): Record<string, unknown> {
    const ts = `${Math.floor(Date.now() / 1000)}.${String(++this.tsCounter).padStart(6, "0")}`;
    return {
      type: "message",
      subtype: "file_share",
      text,
      user,
      upload: true,
      files: fileIds.map((id) => ({ id, mode: "file_access", file_access: "check_file_info" })),
      channel: this.dmChannelOf(user),
      channel_type: "im",
      ts,
      event_ts: ts,
    };
  }

  /**
   * Delivers an Events API event to a running app: over Socket Mode when a client is connected,
   * else as a signed POST to `target.url` (the app's /slack/events), as Slack does.
   */
  async sendEvent(event: Record<string, unknown>, target: { url?: string; signingSecret?: string } = {}) {
    const origin = this.originOf(String(event.user ?? ""));
    const envelope = {
      token: "legacy",
      team_id: origin.team,
      ...(origin.enterprise ? { enterprise_id: origin.enterprise } : {}),
      ...(origin.team === "T0EMULATED"
        ? {}
        : {
            authorizations: [
              {
                team_id: origin.orgInstall ? null : origin.team,
                enterprise_id: origin.enterprise ?? null,
                user_id: "U0BOT",
                is_bot: true,
                is_enterprise_install: origin.orgInstall,
              },
            ],
          }),
      api_app_id: "A0EMULATED",
      type: "event_callback",
      event_id: `Ev${randomUUID().replace(/-/g, "").slice(0, 12)}`,
      event_time: Math.floor(Date.now() / 1000),
      event,
    };
    if (this.sockets.size) return (await this.sendEnvelope("events_api", envelope)).ackMs;
    if (!target.url || !target.signingSecret)
      throw new Error(
        "no app connected: start serve with the SLACK_APP_TOKEN printed above (Socket Mode), or give serve and the emulator the same SLACK_SIGNING_SECRET (HTTP)",
      );
    const body = JSON.stringify(envelope);
    const ts = Math.floor(Date.now() / 1000);
    const sig = createHmac("sha256", target.signingSecret).update(`v0:${ts}:${body}`).digest("hex");
    const res = await fetch(target.url, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": String(ts),
        "X-Slack-Signature": `v0=${sig}`,
      },
      body,
      signal: AbortSignal.timeout(ACK_TIMEOUT_MS),
    });
    await res.text();
    if (res.status !== 200) throw new Error(`the app answered the event with HTTP ${res.status}`);
    return 0;
  }

  /**
   * A click on a button of a message the app posted (or of the user's Home tab when `message` is
   * absent), as Slack sends it: a `block_actions` payload with a response_url served here.
   */
  blockActionsPayload(opts: {
    user: string;
    actionId: string;
    message?: { channel: string; ts: string };
    value?: string;
  }): Record<string, unknown> {
    const id = `${Date.now()}-${++this.tsCounter}`;
    const action = {
      type: "button",
      action_id: opts.actionId,
      block_id: "report_controls",
      action_ts: String(Date.now() / 1000),
      ...(opts.value === undefined ? {} : { value: opts.value }),
    };
    const origin = this.originOf(opts.user);
    const common = {
      type: "block_actions",
      team: { id: origin.team, domain: "emulated", ...(origin.enterprise ? { enterprise_id: origin.enterprise } : {}) },
      user: { id: opts.user, team_id: origin.team },
      ...(origin.enterprise ? { enterprise: { id: origin.enterprise } } : {}),
      ...(origin.orgInstall ? { is_enterprise_install: true } : {}),
      api_app_id: "A0EMULATED",
      token: "legacy",
      trigger_id: `${id}.trigger`,
      actions: [action],
    };
    if (!opts.message) {
      return { ...common, container: { type: "view", view_id: `V${this.views.length}` }, view: { type: "home" } };
    }
    return {
      ...common,
      container: {
        type: "message",
        channel_id: opts.message.channel,
        message_ts: opts.message.ts,
        is_ephemeral: false,
      },
      channel: { id: opts.message.channel },
      message: { ts: opts.message.ts, type: "message" },
      response_url: this.responseUrl(`action-${id}`),
    };
  }

  /** A slash command as Slack sends it, with a response_url served here. */
  slashCommandFields(user: string, text: string): Record<string, string> {
    const id = `cmd-${Date.now()}-${++this.tsCounter}`;
    const origin = this.originOf(user);
    return {
      token: "legacy",
      team_id: origin.team,
      ...(origin.enterprise ? { enterprise_id: origin.enterprise } : {}),
      ...(origin.orgInstall ? { is_enterprise_install: "true" } : {}),
      api_app_id: "A0EMULATED",
      command: "/mentorship-report",
      text,
      user_id: user,
      user_name:
        this.userById(user)?.name ?? this.tenants.flatMap((t) => t.users).find((u) => u.id === user)?.name ?? user,
      channel_id: this.dmChannelOf(user),
      trigger_id: `${id}.trigger`,
      response_url: this.responseUrl(id),
    };
  }

  /**
   * Delivers an interaction (a slash command's fields, or a `block_actions` payload) to a running app:
   * over Socket Mode when a client is connected, else as a signed form POST to `target.url`.
   */
  async sendInteraction(
    kind: "slash_commands" | "interactive",
    fields: Record<string, unknown>,
    target: { url?: string; signingSecret?: string } = {},
  ): Promise<number> {
    if (this.sockets.size) return (await this.sendEnvelope(kind, fields)).ackMs;
    if (!target.url || !target.signingSecret)
      throw new Error(
        "no app connected: start serve with the SLACK_APP_TOKEN printed above (Socket Mode), or give serve and the emulator the same SLACK_SIGNING_SECRET (HTTP)",
      );
    const body =
      kind === "interactive"
        ? new URLSearchParams({ payload: JSON.stringify(fields) }).toString()
        : new URLSearchParams(fields as Record<string, string>).toString();
    const ts = Math.floor(Date.now() / 1000);
    const sig = createHmac("sha256", target.signingSecret).update(`v0:${ts}:${body}`).digest("hex");
    const started = performance.now();
    const res = await fetch(target.url, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": String(ts),
        "X-Slack-Signature": `v0=${sig}`,
      },
      body,
      signal: AbortSignal.timeout(ACK_TIMEOUT_MS),
    });
    await res.text();
    if (res.status !== 200) throw new Error(`the app answered with HTTP ${res.status}`);
    return performance.now() - started;
  }

  private serveFile(req: IncomingMessage, res: ServerResponse, path: string): void {
    const id = /^\/files-pri\/T0EMULATED-(F\w+)\//.exec(path)?.[1] ?? "";
    const bearer = (req.headers.authorization ?? "").replace(/^Bearer /, "");
    const authorized =
      bearer === this.token || this.tenants.some((t) => t.token === bearer && !this.revoked.has(bearer));
    this.downloads.push({ fileId: id, authorized });
    const f = this.files.get(id);
    // Slack answers an unauthenticated file request with its sign-in page, not a 401.
    if (!authorized) {
      res.writeHead(200, { "Content-Type": "text/html" });
      res.end("<html><body>Sign in to Slack</body></html>");
    } else if (!f) {
      this.send(res, 404, { ok: false, error: "file_not_found" });
    } else {
      res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": String(f.content.length) });
      res.end(f.content);
    }
  }

  private async receiveUpload(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const f = this.files.get(path.slice("/upload/".length));
    if (!f) return this.send(res, 404, { ok: false, error: "file_not_found" });
    f.content = uploadedBytes(Buffer.concat(chunks), String(req.headers["content-type"] ?? ""));
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.end(`OK - ${f.content.length}`);
  }

  private member(u: EmulatedUser) {
    return {
      id: u.id,
      name: u.name,
      deleted: !!u.deleted,
      is_bot: !!u.isBot,
      ...(u.tz ? { tz: u.tz } : {}),
      profile: { email: u.email, real_name: u.name },
    };
  }
}

function safeJson(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/** The file in an upload: the body itself, or the file part of a multipart form (as the SDK sends it). */
function uploadedBytes(body: Buffer, contentType: string): Buffer {
  const boundary = /multipart\/form-data;.*boundary=("?)([^";]+)\1/i.exec(contentType)?.[2];
  if (!boundary) return body;
  const delimiter = Buffer.from(`--${boundary}`);
  for (let at = body.indexOf(delimiter); at >= 0; ) {
    const next = body.indexOf(delimiter, at + delimiter.length);
    if (next < 0) break;
    const part = body.subarray(at + delimiter.length, next);
    const headEnd = part.indexOf("\r\n\r\n");
    if (headEnd >= 0 && /filename=/i.test(part.subarray(0, headEnd).toString("utf8")))
      return part.subarray(headEnd + 4, part.length - 2);
    at = next;
  }
  return body;
}
