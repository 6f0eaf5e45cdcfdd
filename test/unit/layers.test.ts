import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = join(import.meta.dirname, "../../src");

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );

/** Each file of `folder` that imports from one of `banned`, with the line. */
function importsInto(folder: string, banned: string[]): string[] {
  return filesUnder(join(SRC, folder)).flatMap((file) =>
    readFileSync(file, "utf8")
      .split("\n")
      .filter((line) => /^\s*(import|export)\b.*\bfrom\s+"/.test(line))
      .filter((line) => banned.some((b) => line.includes(`/${b}/`)))
      .map((line) => `${relative(SRC, file)}: ${line.trim()}`),
  );
}

describe("layers (architecture: the listeners call ports declared on the Slack side)", () => {
  it("slack/ imports nothing from services/ or delivery/", () => {
    expect(importsInto("slack", ["services", "delivery"])).toEqual([]);
  });

  it("domain/ and render/ stay pure: no Slack, database, services or CLI", () => {
    expect(importsInto("domain", ["slack", "db", "services", "delivery", "cli"])).toEqual([]);
    expect(importsInto("render", ["slack", "db", "services", "delivery", "cli"])).toEqual([]);
  });
});
