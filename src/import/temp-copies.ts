import { rmSync } from "node:fs";
import { lstat, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Private copies of roster files (a Slack upload, the drop folder's snapshot) live in folders named
 * after the process that made them, so a later start can tell which ones a dead process left behind.
 */
const PREFIX = "mr-copy-";
const live = new Set<string>();
let exitHook = false;

/** A new folder only this user can open (mkdtemp makes it 0700), removed at exit if still there. */
export async function makeCopyFolder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `${PREFIX}${process.pid}-`));
  live.add(dir);
  if (!exitHook) {
    exitHook = true;
    // A shutdown mid-import: whatever `serve` was doing, the roster does not stay behind in /tmp.
    process.once("exit", () => {
      for (const d of live) rmSync(d, { recursive: true, force: true });
    });
  }
  return dir;
}

export async function removeCopyFolder(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  live.delete(dir);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** Removes the copy folders of processes that are gone (killed before they could): at start. Returns how many. */
export async function sweepCopyFolders(): Promise<number> {
  const uid = process.getuid?.();
  let removed = 0;
  for (const name of await readdir(tmpdir()).catch(() => [] as string[])) {
    const pid = Number(/^mr-copy-(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    const path = join(tmpdir(), name);
    const s = await lstat(path).catch(() => null);
    if (!s?.isDirectory() || (uid !== undefined && s.uid !== uid)) continue;
    await rm(path, { recursive: true, force: true });
    removed++;
  }
  return removed;
}
