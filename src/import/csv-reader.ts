import { createReadStream } from "node:fs";

/** One CSV record: the line it starts on, its fields, and why it is malformed if it is. */
export interface CsvRecord {
  line: number;
  fields: string[];
  error?: string;
}

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

const State = { FieldStart: 0, Unquoted: 1, Quoted: 2, QuoteInQuoted: 3 } as const;
type State = (typeof State)[keyof typeof State];

/**
 * An RFC 4180 reader fed in chunks: CRLF, LF or CR line ends, quoted fields with doubled quotes and
 * line breaks, empty lines skipped. Its own, rather than a library's, because a problem must never
 * repeat a cell's text (a library's messages do) and because it is the import's hottest loop.
 */
export class CsvReader {
  private fields: string[] = [];
  private field = "";
  private state: State = State.FieldStart;
  private line = 1;
  private recordLine = 1;
  private skipLf = false;
  private error: string | undefined;
  private touched = false;
  /** A CR that ended a chunk inside a quoted field: an LF starting the next one is the same line break. */
  private crInQuoted = false;

  feed(chunk: string, emit: (r: CsvRecord) => void): void {
    let runStart = 0;
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      const c = chunk.charCodeAt(i);
      if (this.crInQuoted) {
        this.crInQuoted = false;
        if (c === LF && this.state === State.Quoted) continue;
      }
      if (this.skipLf) {
        this.skipLf = false;
        if (c === LF) {
          runStart = i + 1;
          continue;
        }
      }
      switch (this.state) {
        case State.Quoted:
          if (c === QUOTE) {
            this.field += chunk.slice(runStart, i);
            this.state = State.QuoteInQuoted;
          } else if (c === LF) this.line++;
          else if (c === CR) {
            this.line++;
            // A CRLF inside a quoted field is one line break; keep both characters of it.
            if (i + 1 === n) this.crInQuoted = true;
            else if (chunk.charCodeAt(i + 1) === LF) i++;
          }
          break;
        case State.QuoteInQuoted:
          if (c === QUOTE) {
            // A doubled quote stands for one quote.
            this.state = State.Quoted;
            runStart = i;
          } else if (c === COMMA) {
            this.endField();
            runStart = i + 1;
          } else if (c === LF || c === CR) {
            this.endRecord(emit, c);
            runStart = i + 1;
          } else {
            this.error ??= "text follows a closing quote (a quote inside a quoted field must be doubled)";
            this.state = State.Unquoted;
            runStart = i;
          }
          break;
        default:
          if (c === COMMA) {
            this.field += chunk.slice(runStart, i);
            this.endField();
            runStart = i + 1;
          } else if (c === LF || c === CR) {
            this.field += chunk.slice(runStart, i);
            this.endRecord(emit, c);
            runStart = i + 1;
          } else if (c === QUOTE && this.state === State.FieldStart) {
            this.state = State.Quoted;
            this.touched = true;
            runStart = i + 1;
          } else {
            if (c === QUOTE) this.error ??= "a quote inside an unquoted field (quote the whole field)";
            this.state = State.Unquoted;
            this.touched = true;
          }
      }
    }
    if (this.state === State.Quoted || this.state === State.Unquoted) this.field += chunk.slice(runStart);
  }

  end(emit: (r: CsvRecord) => void): void {
    if (this.state === State.Quoted) {
      this.error ??= "a quoted field is never closed";
      this.state = State.Unquoted;
    }
    if (this.touched || this.fields.length > 0) this.endRecord(emit, LF);
  }

  private endField(): void {
    this.fields.push(this.field);
    this.field = "";
    this.state = State.FieldStart;
    this.touched = true;
  }

  private endRecord(emit: (r: CsvRecord) => void, terminator: number): void {
    const blank = !this.touched && this.fields.length === 0;
    if (!blank) {
      this.fields.push(this.field);
      emit({ line: this.recordLine, fields: this.fields, error: this.error });
    }
    this.fields = [];
    this.field = "";
    this.error = undefined;
    this.touched = false;
    this.state = State.FieldStart;
    this.line++;
    this.recordLine = this.line;
    this.skipLf = terminator === CR;
  }
}

/**
 * Reads a file's records as they stream in, with the bytes read so far. Bytes that are not UTF-8
 * become U+FFFD, which the row checks refuse, so a Latin-1 export is named rather than stored mangled.
 */
export async function* readCsv(path: string): AsyncGenerator<{ records: CsvRecord[]; bytes: number }> {
  const decoder = new TextDecoder("utf-8");
  const reader = new CsvReader();
  let bytes = 0;
  let batch: CsvRecord[] = [];
  const push = (r: CsvRecord) => batch.push(r);
  for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 })) {
    const buf = chunk as Buffer;
    bytes += buf.length;
    reader.feed(decoder.decode(buf, { stream: true }), push);
    if (batch.length) {
      yield { records: batch, bytes };
      batch = [];
    }
  }
  reader.feed(decoder.decode(), push);
  reader.end(push);
  if (batch.length) yield { records: batch, bytes };
}
