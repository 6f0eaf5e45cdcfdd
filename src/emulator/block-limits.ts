/**
 * Block Kit's documented limits, checked the way Slack answers `invalid_blocks`: a list of messages
 * with a JSON pointer each.
 */
export function blockErrors(blocks: unknown, opts: { maxBlocks: number; newBlocks: boolean }): string[] {
  if (!Array.isArray(blocks)) return ["must be an array [json-pointer:/blocks]"];
  const errors: string[] = [];
  if (blocks.length > opts.maxBlocks)
    errors.push(`must be less than ${opts.maxBlocks + 1} items [json-pointer:/blocks]`);
  if (blocks.filter((b: any) => b?.type === "data_visualization").length > 2)
    errors.push("no more than 2 data_visualization blocks [json-pointer:/blocks]");
  if (blocks.filter((b: any) => b?.type === "table").length > 1)
    errors.push("only one table block is allowed per message [json-pointer:/blocks]");
  const known = new Set([
    "section",
    "header",
    "context",
    "divider",
    "actions",
    "image",
    "rich_text",
    "input",
    "file",
    "video",
  ]);
  if (opts.newBlocks) known.add("table").add("data_visualization");
  blocks.forEach((b: any, i: number) => {
    const at = (p: string) => `[json-pointer:/blocks/${i}${p}]`;
    if (!b || typeof b !== "object" || !known.has(b.type)) {
      errors.push(`unsupported type: ${b?.type} ${at("/type")}`);
      return;
    }
    const text = (t: any, max: number, p: string, plainOnly = false) => {
      if (!t || typeof t.text !== "string" || !["plain_text", "mrkdwn"].includes(t.type))
        errors.push(`must provide a text object ${at(p)}`);
      else if (plainOnly && t.type !== "plain_text") errors.push(`must be plain_text ${at(`${p}/type`)}`);
      else if (t.text.length === 0) errors.push(`must be more than 0 characters ${at(`${p}/text`)}`);
      else if (t.text.length > max) errors.push(`must be less than ${max + 1} characters ${at(`${p}/text`)}`);
    };
    if (b.block_id !== undefined && (typeof b.block_id !== "string" || b.block_id.length > 255))
      errors.push(`invalid block_id ${at("/block_id")}`);
    switch (b.type) {
      case "header":
        text(b.text, 150, "/text", true);
        break;
      case "section":
        if (b.text === undefined && b.fields === undefined) errors.push(`must provide either text or fields ${at("")}`);
        if (b.text !== undefined) text(b.text, 3000, "/text");
        if (b.fields !== undefined) {
          if (!Array.isArray(b.fields) || b.fields.length > 10)
            errors.push(`must be less than 11 items ${at("/fields")}`);
          else b.fields.forEach((f: any, j: number) => text(f, 2000, `/fields/${j}`));
        }
        break;
      case "context":
        if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 10)
          errors.push(`must have 1 to 10 elements ${at("/elements")}`);
        else b.elements.forEach((e: any, j: number) => e.type !== "image" && text(e, 3000, `/elements/${j}`));
        break;
      case "data_visualization": {
        if (typeof b.title !== "string" || !b.title || b.title.length > 50)
          errors.push(`title must be 1 to 50 characters ${at("/title")}`);
        const c = b.chart;
        if (!c || !["pie", "bar", "area", "line"].includes(c.type))
          errors.push(`unsupported chart ${at("/chart/type")}`);
        else if (c.type === "pie") {
          if (!Array.isArray(c.segments) || c.segments.length < 1 || c.segments.length > 6)
            errors.push(`must have 1 to 6 segments ${at("/chart/segments")}`);
          else
            c.segments.forEach((seg: any, j: number) => {
              if (typeof seg.label !== "string" || !seg.label || seg.label.length > 20)
                errors.push(`label must be 1 to 20 characters ${at(`/chart/segments/${j}/label`)}`);
              if (typeof seg.value !== "number" || seg.value < 0)
                errors.push(`value must be a number of at least 0 ${at(`/chart/segments/${j}/value`)}`);
            });
        }
        break;
      }
      case "table": {
        if (!Array.isArray(b.rows) || b.rows.length < 1 || b.rows.length > 100) {
          errors.push(`must have 1 to 100 rows ${at("/rows")}`);
          break;
        }
        b.rows.forEach((r: unknown, j: number) => {
          if (!Array.isArray(r) || r.length < 1 || r.length > 20) {
            errors.push(`a row must have 1 to 20 cells ${at(`/rows/${j}`)}`);
            return;
          }
          r.forEach((c: any, k: number) => {
            const p = at(`/rows/${j}/${k}`);
            if (c?.type === "raw_text") {
              if (typeof c.text !== "string" || !c.text) errors.push(`raw_text must have text ${p}`);
            } else if (c?.type !== "rich_text") errors.push(`a cell must be raw_text or rich_text ${p}`);
          });
        });
        if (b.column_settings !== undefined && (!Array.isArray(b.column_settings) || b.column_settings.length > 20))
          errors.push(`must be less than 21 items ${at("/column_settings")}`);
        break;
      }
      case "actions": {
        if (!Array.isArray(b.elements) || b.elements.length < 1 || b.elements.length > 25) {
          errors.push(`must have 1 to 25 elements ${at("/elements")}`);
          break;
        }
        const ids = new Set<string>();
        b.elements.forEach((e: any, j: number) => {
          const p = (x: string) => at(`/elements/${j}${x}`);
          if (e?.type !== "button") return;
          text(e.text, 75, `/elements/${j}/text`, true);
          if (typeof e.action_id !== "string" || !e.action_id || e.action_id.length > 255)
            errors.push(`action_id must be 1 to 255 characters ${p("/action_id")}`);
          else if (ids.has(e.action_id)) errors.push(`action_id must be unique in the block ${p("/action_id")}`);
          else ids.add(e.action_id);
          if (e.value !== undefined && (typeof e.value !== "string" || e.value.length > 2000))
            errors.push(`must be less than 2001 characters ${p("/value")}`);
          if (e.url !== undefined && (typeof e.url !== "string" || e.url.length > 3000))
            errors.push(`must be less than 3001 characters ${p("/url")}`);
          if (e.style !== undefined && !["primary", "danger"].includes(e.style))
            errors.push(`style must be primary or danger ${p("/style")}`);
        });
        break;
      }
    }
  });
  return errors;
}
