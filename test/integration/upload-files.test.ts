import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { createUploadService } from "../../src/services/upload-service.js";
import { baseConfig, sampleWorkspace, slackFor } from "../helpers/slack.js";

const log = createLogger("silent");
const MB = 1024 * 1024;
/** This process's private copies of roster files. */
const copies = () => readdirSync(tmpdir()).filter((n) => n.startsWith(`mr-copy-${process.pid}-`));

describe("files sent in Slack: size, time and what stays on disk (§15)", () => {
  const w = sampleWorkspace("sqlite");
  let proxy: Server | null = null;
  afterEach(() => {
    proxy?.close();
    proxy?.closeAllConnections();
    proxy = null;
  });

  /**
   * Stands between the app and the emulator (as SLACK_API_URL): API calls pass, a file download
   * sends a first line and then nothing more, like a stalled connection.
   */
  async function stallingSlack(): Promise<string> {
    proxy = createServer(async (req, res) => {
      if (req.url?.startsWith("/files-pri/")) {
        res.writeHead(200, { "Content-Type": "text/csv" });
        res.write("program_id,name\n");
        return;
      }
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const r = await fetch(`${w.emulator.url}${req.url}`, {
        method: req.method,
        headers: {
          "content-type": String(req.headers["content-type"] ?? ""),
          authorization: String(req.headers.authorization ?? ""),
        },
        body: req.method === "GET" ? undefined : Buffer.concat(chunks),
      });
      res.writeHead(r.status, { "Content-Type": r.headers.get("content-type") ?? "application/json" });
      res.end(Buffer.from(await r.arrayBuffer()));
    });
    await new Promise<void>((r) => proxy!.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    w.emulator.fileUrlBase = url;
    return url;
  }

  function service(apiUrl: string, downloadTimeoutMs?: number) {
    const config = {
      ...loadConfig({}),
      ...baseConfig,
      ADMIN_EMAILS: ["grace@acme.example"],
      SLACK_BOT_TOKEN: w.emulator.token,
      SLACK_API_URL: apiUrl,
    };
    return createUploadService({
      db: w.t.db,
      slack: slackFor(w.emulator),
      log,
      config,
      emailOf: async (user) => (user === w.emulator.userIdOf("grace@acme.example") ? "grace@acme.example" : null),
      downloadTimeoutMs,
    });
  }
  async function send(svc: ReturnType<typeof service>, files: Record<string, string | Buffer>) {
    const user = w.emulator.userIdOf("grace@acme.example")!;
    const fileIds = Object.entries(files).map(([name, content]) => w.emulator.addFile({ name, content, user }));
    const event = w.emulator.fileShareEvent(user, fileIds);
    await svc.receive({ user, channel: event.channel as string, ts: event.ts as string, fileIds });
    return w.emulator.messages.filter((m) => m.thread_ts === event.ts).map((m) => m.text);
  }

  it("gives up a stalled download after the timeout; the partial copy was private and is gone", async () => {
    const url = await stallingSlack();
    const svc = service(url, 400);
    let mode: number | null = null;
    let folderMode: number | null = null;
    const watch = setInterval(() => {
      for (const d of copies()) {
        try {
          folderMode = statSync(join(tmpdir(), d)).mode & 0o777;
          mode = statSync(join(tmpdir(), d, "programs.csv")).mode & 0o777;
        } catch {
          // Not written yet, or already removed.
        }
      }
    }, 20);
    const started = Date.now();
    const answer = await send(svc, { "programs.csv": "program_id,name\n" });
    clearInterval(watch);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(answer[0]).toContain("Slack did not send a file within 0.4 seconds");
    expect(answer[0]).toContain("nothing was imported");
    expect(mode).toBe(0o600);
    expect(folderMode).toBe(0o700);
    expect(copies()).toEqual([]);
  });

  it("refuses a file over 50 MB without downloading it", async () => {
    const svc = service(w.emulator.url);
    const answer = await send(svc, { "people.csv": Buffer.alloc(50 * MB + 1, 0x61) });
    expect(answer[0]).toContain("a file is larger than 50 MB");
    expect(w.emulator.downloads).toEqual([]);
    expect(copies()).toEqual([]);
  });

  it("removes at start the copies a killed process left behind, and only those", async () => {
    const dead = join(tmpdir(), "mr-copy-999999999-abcdef");
    const mine = join(tmpdir(), `mr-copy-${process.ppid}-abcdef`);
    for (const d of [dead, mine]) {
      mkdirSync(d, { recursive: true, mode: 0o700 });
      writeFileSync(join(d, "people.csv"), "email,name\n");
    }
    service(w.emulator.url);
    const deadline = Date.now() + 3000;
    while (readdirSync(tmpdir()).includes("mr-copy-999999999-abcdef") && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(readdirSync(tmpdir())).not.toContain("mr-copy-999999999-abcdef");
    // A live process's copy (the parent of this one stands for another instance) stays.
    expect(statSync(mine).isDirectory()).toBe(true);
    rmSync(mine, { recursive: true });
  });

  it("a process that exits (a shutdown mid-import) leaves no copy behind", () => {
    const module = new URL("../../dist/import/temp-copies.js", import.meta.url).href;
    const out = execFileSync(process.execPath, [
      "--input-type=module",
      "-e",
      `const m = await import(${JSON.stringify(module)}); const d = await m.makeCopyFolder(); (await import("node:fs")).writeFileSync(d + "/people.csv", "x"); console.log(d); process.exit(0);`,
    ]).toString();
    const dir = out.trim();
    expect(dir).toContain("mr-copy-");
    expect(existsSync(dir)).toBe(false);
  });
});
