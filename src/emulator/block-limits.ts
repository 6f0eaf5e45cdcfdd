// What an app sent, read field by field: any field may be missing or of the wrong type, and that is
// exactly what is being checked.
type Json = { readonly [k: string]: unknown };
const obj = (v: unknown): Json => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {});
const list = (v: unknown): unknown[] | null => (Array.isArray(v) ? v : null);
const text = (v: unknown): string | null => (typeof v === "string" ? v : null);

/**
 * Block Kit's documented limits, checked the way Slack answers `invalid_blocks`: a list of messages
 * with a JSON pointer each.
 */
export function blockErrors(
  blocks: unknown,
  opts: { maxBlocks: number; newBlocks: boolean; dataTable?: boolean },
): string[] {
  if (!Array.isArray(blocks)) return ["must be an array [json-pointer:/blocks]"];
  const errors: string[] = [];
  if (blocks.length > opts.maxBlocks)
    errors.push(`must be less than ${opts.maxBlocks + 1} items [json-pointer:/blocks]`);
  const ofType = (t: string) => blocks.filter((b) => obj(b).type === t).length;
  if (ofType("data_visualization") > 2) errors.push("no more than 2 data_visualization blocks [json-pointer:/blocks]");
  if (ofType("table") > 1) errors.push("only one table block is allowed per message [json-pointer:/blocks]");
  if (ofType("data_table") > 1) errors.push("only one data_table block is allowed per message [json-pointer:/blocks]");
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
  if (opts.newBlocks && opts.dataTable !== false) known.add("data_table");
  blocks.forEach((raw: unknown, i: number) => {
    const at = (p: string) => `[json-pointer:/blocks/${i}${p}]`;
    const b = obj(raw);
    const type = text(b.type);
    if (type === null || !known.has(type)) {
      errors.push(`unsupported type: ${String(b.type)} ${at("/type")}`);
      return;
    }
    const textObject = (v: unknown, max: number, p: string, plainOnly = false) => {
      const t = obj(v);
      const s = text(t.text);
      if (s === null || (t.type !== "plain_text" && t.type !== "mrkdwn"))
        errors.push(`must provide a text object ${at(p)}`);
      else if (plainOnly && t.type !== "plain_text") errors.push(`must be plain_text ${at(`${p}/type`)}`);
      else if (s.length === 0) errors.push(`must be more than 0 characters ${at(`${p}/text`)}`);
      else if (s.length > max) errors.push(`must be less than ${max + 1} characters ${at(`${p}/text`)}`);
      if (t.verbatim !== undefined && (t.type !== "mrkdwn" || typeof t.verbatim !== "boolean"))
        errors.push(`verbatim is a boolean of mrkdwn text ${at(`${p}/verbatim`)}`);
    };
    /** A button, in an actions block or as a section's accessory. */
    const button = (e: Json, p: (x: string) => string, textAt: string) => {
      textObject(e.text, 75, textAt, true);
      const id = text(e.action_id);
      if (!id || id.length > 255) errors.push(`action_id must be 1 to 255 characters ${p("/action_id")}`);
      if (e.value !== undefined && (text(e.value) ?? "x".repeat(2001)).length > 2000)
        errors.push(`must be less than 2001 characters ${p("/value")}`);
      if (e.url !== undefined && (text(e.url) ?? "x".repeat(3001)).length > 3000)
        errors.push(`must be less than 3001 characters ${p("/url")}`);
      if (e.style !== undefined && e.style !== "primary" && e.style !== "danger")
        errors.push(`style must be primary or danger ${p("/style")}`);
      if (e.accessibility_label !== undefined) {
        const label = text(e.accessibility_label);
        if (!label || label.length > 75)
          errors.push(`accessibility_label must be 1 to 75 characters ${p("/accessibility_label")}`);
      }
      return id;
    };
    if (b.block_id !== undefined && (text(b.block_id) ?? "x".repeat(256)).length > 255)
      errors.push(`invalid block_id ${at("/block_id")}`);
    switch (type) {
      case "header":
        textObject(b.text, 150, "/text", true);
        break;
      case "section": {
        if (b.text === undefined && b.fields === undefined) errors.push(`must provide either text or fields ${at("")}`);
        if (b.text !== undefined) textObject(b.text, 3000, "/text");
        if (b.fields !== undefined) {
          const fields = list(b.fields);
          if (!fields || fields.length > 10) errors.push(`must be less than 11 items ${at("/fields")}`);
          else for (const [j, f] of fields.entries()) textObject(f, 2000, `/fields/${j}`);
        }
        if (b.accessory !== undefined) {
          const acc = obj(b.accessory);
          if (acc.type === "button") button(acc, (x) => at(`/accessory${x}`), "/accessory/text");
        }
        break;
      }
      case "context": {
        const elements = list(b.elements);
        if (!elements || elements.length === 0 || elements.length > 10)
          errors.push(`must have 1 to 10 elements ${at("/elements")}`);
        else
          for (const [j, e] of elements.entries()) if (obj(e).type !== "image") textObject(e, 3000, `/elements/${j}`);
        break;
      }
      case "data_visualization": {
        const title = text(b.title);
        if (!title || title.length > 50) errors.push(`title must be 1 to 50 characters ${at("/title")}`);
        const c = obj(b.chart);
        if (!["pie", "bar", "area", "line"].includes(String(c.type)))
          errors.push(`unsupported chart ${at("/chart/type")}`);
        else if (c.type === "pie") {
          const segments = list(c.segments);
          if (!segments || segments.length < 1 || segments.length > 6)
            errors.push(`must have 1 to 6 segments ${at("/chart/segments")}`);
          else
            segments.forEach((raw, j) => {
              const seg = obj(raw);
              const label = text(seg.label);
              if (!label || label.length > 20)
                errors.push(`label must be 1 to 20 characters ${at(`/chart/segments/${j}/label`)}`);
              if (typeof seg.value !== "number" || seg.value < 0)
                errors.push(`value must be a number of at least 0 ${at(`/chart/segments/${j}/value`)}`);
            });
        } else {
          // bar, area and line: 1 to 6 uniquely named series, each with one point per category, in order.
          const axis = obj(c.axis_config);
          const categories = list(axis.categories);
          if (!categories || categories.length < 1 || categories.some((x) => !text(x) || String(x).length > 20))
            errors.push(
              `categories must be 1 or more labels of 1 to 20 characters ${at("/chart/axis_config/categories")}`,
            );
          for (const k of ["x_label", "y_label"])
            if (axis[k] !== undefined && (text(axis[k]) ?? "x".repeat(51)).length > 50)
              errors.push(`must be at most 50 characters ${at(`/chart/axis_config/${k}`)}`);
          const series = list(c.series);
          if (!series || series.length < 1 || series.length > 6)
            errors.push(`must have 1 to 6 series ${at("/chart/series")}`);
          else {
            const names = new Set<string>();
            series.forEach((raw, j) => {
              const sr = obj(raw);
              const name = text(sr.name);
              if (!name || name.length > 20 || names.has(name))
                errors.push(`series names must be unique, 1 to 20 characters ${at(`/chart/series/${j}/name`)}`);
              else names.add(name);
              const data = list(sr.data) ?? [];
              const labels = data.map((d) => text(obj(d).label));
              if (!categories || labels.length !== categories.length || labels.some((l, k) => l !== categories[k]))
                errors.push(`each series needs one point per category, in order ${at(`/chart/series/${j}/data`)}`);
              if (data.some((d) => typeof obj(d).value !== "number"))
                errors.push(`values must be numbers ${at(`/chart/series/${j}/data`)}`);
            });
          }
        }
        break;
      }
      case "table": {
        const rows = list(b.rows);
        if (!rows || rows.length < 1 || rows.length > 100) {
          errors.push(`must have 1 to 100 rows ${at("/rows")}`);
          break;
        }
        rows.forEach((r, j) => {
          const cells = list(r);
          if (!cells || cells.length < 1 || cells.length > 20) {
            errors.push(`a row must have 1 to 20 cells ${at(`/rows/${j}`)}`);
            return;
          }
          cells.forEach((raw, k) => {
            const c = obj(raw);
            const p = at(`/rows/${j}/${k}`);
            if (c.type === "raw_text") {
              if (!text(c.text)) errors.push(`raw_text must have text ${p}`);
            } else if (c.type !== "rich_text") errors.push(`a cell must be raw_text or rich_text ${p}`);
          });
        });
        const settings = b.column_settings === undefined ? [] : list(b.column_settings);
        if (!settings || settings.length > 20) errors.push(`must be less than 21 items ${at("/column_settings")}`);
        break;
      }
      case "data_table": {
        // docs.slack.dev/reference/block-kit/blocks/data-table-block: a caption; 2 to 101 rows (the header
        // and up to 100), every row as long as the header (1 to 20 cells); the header without rich_text;
        // page_size 1 to 100; the row header a column index.
        if (!text(b.caption)) errors.push(`caption is required ${at("/caption")}`);
        const rows = list(b.rows);
        if (!rows || rows.length < 2 || rows.length > 101) {
          errors.push(`must have 2 to 101 rows ${at("/rows")}`);
          break;
        }
        const width = list(rows[0])?.length ?? 0;
        if (width < 1 || width > 20) errors.push(`the header must have 1 to 20 cells ${at("/rows/0")}`);
        rows.forEach((r, j) => {
          const cells = list(r);
          if (!cells || cells.length !== width) {
            errors.push(`every row must have as many cells as the header ${at(`/rows/${j}`)}`);
            return;
          }
          cells.forEach((raw, k) => {
            const c = obj(raw);
            const p = at(`/rows/${j}/${k}`);
            if (c.type === "raw_text") {
              if (!text(c.text)) errors.push(`raw_text must have text ${p}`);
            } else if (c.type === "raw_number") {
              if (typeof c.value !== "number" || !text(c.text))
                errors.push(`raw_number must have a number value and its text ${p}`);
            } else if (c.type !== "rich_text" || j === 0)
              errors.push(`a cell must be raw_text, raw_number or rich_text (not in the header) ${p}`);
          });
        });
        if (
          b.page_size !== undefined &&
          !(Number.isInteger(b.page_size) && Number(b.page_size) >= 1 && Number(b.page_size) <= 100)
        )
          errors.push(`page_size must be 1 to 100 ${at("/page_size")}`);
        if (
          b.row_header_column_index !== undefined &&
          !(
            Number.isInteger(b.row_header_column_index) &&
            Number(b.row_header_column_index) >= 0 &&
            Number(b.row_header_column_index) < width
          )
        )
          errors.push(`row_header_column_index must name a column ${at("/row_header_column_index")}`);
        break;
      }
      case "actions": {
        const elements = list(b.elements);
        if (!elements || elements.length < 1 || elements.length > 25) {
          errors.push(`must have 1 to 25 elements ${at("/elements")}`);
          break;
        }
        const ids = new Set<string>();
        elements.forEach((raw, j) => {
          const e = obj(raw);
          const p = (x: string) => at(`/elements/${j}${x}`);
          if (e.type !== "button") return;
          const id = button(e, p, `/elements/${j}/text`);
          if (!id || id.length > 255) return;
          if (ids.has(id)) errors.push(`action_id must be unique in the block ${p("/action_id")}`);
          else ids.add(id);
        });
        break;
      }
    }
  });
  return errors;
}
