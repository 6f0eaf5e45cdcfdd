import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import { prng } from "../random.js";
import { blockErrors } from "./block-limits.js";

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
  /** Answer this share of calls with 429 or 5xx, from a seeded generator. */
  faults?: { probability: number; seed?: number; methods?: string[] };
  /** Hold each response this long (ms), so a test can act while a call is in flight. */
  responseDelayMs?: number;
  /**
   * Record calls without their parameters and messages without text and blocks: a benchmark of a
   * large company measures the app, not the emulator's record of every report.
   */
  lean?: boolean;
}

export interface RecordedCall {
  method: string;
  params: Record<string, unknown>;
  at: number;
  status: number;
  ok: boolean;
  error?: string;
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
  private random: () => number;
  private htmlAnswers: { methods: string[]; count: number; afterWork?: boolean } | null = null;
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
    return this.users.find((u) => u.email.toLowerCase() === email.toLowerCase())?.id;
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
    let params: Record<string, unknown> = {};
    try {
      params = await this.readBody(req);
    } catch {
      return this.send(res, 400, { ok: false, error: "invalid_json" });
    }
    if (url.pathname.startsWith("/response/")) {
      const errors = params.blocks
        ? blockErrors(params.blocks, { maxBlocks: 50, newBlocks: this.opts.newBlocks !== false })
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
    this.calls.push(record);
    this.emit("call", record);

    const fault = this.opts.faults;
    if (fault && (!fault.methods || fault.methods.includes(method)) && this.random() < fault.probability) {
      const kind = this.random();
      if (kind < 0.5) return this.finish(res, record, 429, { ok: false, error: "ratelimited" }, { "Retry-After": "1" });
      // Half the server errors happen after the work is done, as a lost response would.
      if (kind < 0.75) this.dispatch(method, params);
      return this.finish(res, record, 503, { ok: false, error: "service_unavailable" });
    }

    const html = this.htmlAnswers;
    if (html && html.count > 0 && html.methods.includes(method)) {
      html.count--;
      if (html.afterWork) this.dispatch(method, params);
      record.status = 200;
      record.error = "html";
      if (!res.destroyed) {
        res.writeHead(200, { "Content-Type": "text/html" });
        res.end("<html><body><h1>502 Bad Gateway</h1></body></html>");
      }
      this.emit("responded", record);
      return;
    }

    const auth = (req.headers.authorization ?? "").replace(/^Bearer\s+/i, "") || (params.token as string | undefined);
    if (!auth) return this.finish(res, record, 200, { ok: false, error: "not_authed" });
    if (auth !== (method === "apps.connections.open" ? this.appToken : this.token))
      return this.finish(res, record, 200, { ok: false, error: "invalid_auth" });

    const limit = this.opts.methodLimits?.[method];
    if (limit) {
      const wait = this.take(method, limit);
      if (wait)
        return this.finish(res, record, 429, { ok: false, error: "ratelimited" }, { "Retry-After": String(wait) });
    }
    if (method === "chat.postMessage" && this.opts.perChannelLimit !== false) {
      const ch = String(params.channel ?? "");
      const last = this.lastPostByChannel.get(ch);
      if (last !== undefined && Date.now() - last < 1000)
        return this.finish(res, record, 429, { ok: false, error: "ratelimited" }, { "Retry-After": "1" });
    }
    const result = this.dispatch(method, params);
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

  private userById(id: string) {
    return this.users.find((u) => u.id === id);
  }

  private dmChannelOf(userId: string): string {
    return `D${userId.replace(/^[UW]/, "")}`;
  }

  private resolveChannel(ch: string): { id: string; user?: string } | { error: string } {
    if (/^[UW]/.test(ch)) {
      const u = this.userById(ch);
      if (!u) return { error: "channel_not_found" };
      if (u.deleted) return { error: "user_disabled" };
      return { id: this.dmChannelOf(ch), user: ch };
    }
    if (ch.startsWith("D")) {
      const u = this.users.find((x) => this.dmChannelOf(x.id) === ch);
      return u ? { id: ch, user: u.id } : { error: "channel_not_found" };
    }
    const c = this.channels.find((x) => x.id === ch || `#${x.name}` === ch || x.name === ch);
    if (!c) return { error: "channel_not_found" };
    if (c.botCanPost === false) return { error: "not_in_channel" };
    return { id: c.id };
  }

  private dispatch(method: string, p: Record<string, unknown>): Record<string, unknown> {
    const newBlocks = this.opts.newBlocks !== false;
    switch (method) {
      case "apps.connections.open":
        return { ok: true, url: `ws://127.0.0.1:${this.port}/socket` };
      case "auth.test":
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
        const page = this.users.slice(start, start + limit);
        const next = start + limit < this.users.length ? Buffer.from(String(start + limit)).toString("base64") : "";
        return { ok: true, members: page.map((u) => this.member(u)), response_metadata: { next_cursor: next } };
      }
      case "users.lookupByEmail": {
        const email = String(p.email ?? "").toLowerCase();
        const u = this.users.find((x) => x.email.toLowerCase() === email);
        // Slack answers users_not_found for deactivated users too.
        return !u || u.deleted ? { ok: false, error: "users_not_found" } : { ok: true, user: this.member(u) };
      }
      case "users.info": {
        const u = this.userById(String(p.user ?? ""));
        return u ? { ok: true, user: this.member(u) } : { ok: false, error: "user_not_found" };
      }
      case "conversations.open": {
        const ids = String(p.users ?? "")
          .split(",")
          .filter(Boolean);
        const u = ids.length === 1 ? this.userById(ids[0]!) : undefined;
        if (!u) return { ok: false, error: "user_not_found" };
        if (u.deleted) return { ok: false, error: "user_disabled" };
        return { ok: true, channel: { id: this.dmChannelOf(u.id) } };
      }
      case "conversations.list":
        return {
          ok: true,
          channels: this.channels.map((c) => ({ id: c.id, name: c.name, is_member: c.botCanPost !== false })),
          response_metadata: { next_cursor: "" },
        };
      case "conversations.history": {
        const ch = this.resolveChannel(String(p.channel ?? ""));
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
        const ch = this.resolveChannel(String(p.channel ?? ""));
        if ("error" in ch) return { ok: false, error: ch.error };
        if (!p.text && !p.blocks) return { ok: false, error: "no_text" };
        if (typeof p.text === "string" && p.text.length > 40000) return { ok: false, error: "msg_too_long" };
        if (p.blocks !== undefined) {
          const errors = blockErrors(p.blocks, { maxBlocks: 50, newBlocks });
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
        };
        this.messages.push(msg);
        this.lastPostByChannel.set(String(p.channel), Date.now());
        this.emit("message", msg);
        return { ok: true, channel: ch.id, ts, message: { type: "message", text: msg.text, ts } };
      }
      case "views.publish": {
        const view = p.view as { type?: unknown; blocks?: unknown } | undefined;
        const u = this.userById(String(p.user_id ?? ""));
        if (!u) return { ok: false, error: "user_not_found" };
        if (view?.type !== "home") return { ok: false, error: "invalid_arguments" };
        const errors = blockErrors(view.blocks, { maxBlocks: 100, newBlocks });
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
          const ch = this.resolveChannel(String(p.channel_id));
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
    const envelope = {
      token: "legacy",
      team_id: "T0EMULATED",
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
    const common = {
      type: "block_actions",
      team: { id: "T0EMULATED", domain: "emulated" },
      user: { id: opts.user, team_id: "T0EMULATED" },
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
    return {
      token: "legacy",
      team_id: "T0EMULATED",
      api_app_id: "A0EMULATED",
      command: "/mentorship-report",
      text,
      user_id: user,
      user_name: this.userById(user)?.name ?? user,
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
    const authorized = req.headers.authorization === `Bearer ${this.token}`;
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
