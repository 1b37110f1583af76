/**
 * A reader of server-sent events (`text/event-stream`, the WHATWG HTML "server-sent events"
 * format) as the gateway writes them on `GET /jam/packages/{hash}/events`: `event: status`,
 * `data: <package JSON>`, a blank line; `: keep-alive` comment lines in between.
 */

/** One dispatched event: `event` is `message` when the server named none; `data` lines joined by `\n`. */
export interface SseEvent {
  event: string;
  data: string;
  /** the `id:` field, when the server sent one */
  id?: string;
}

/**
 * Incremental parser: feed it text chunks as they arrive (split anywhere, even inside a line or
 * a CRLF), get back the events completed so far. Lines end with LF, CR or CRLF; lines starting
 * with `:` are comments; a field without a colon has an empty value; one leading space of a
 * value is dropped; an event with no `data` line is not dispatched (all per the WHATWG spec).
 */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private id: string | undefined;
  /** a chunk ended with CR: an LF at the start of the next one belongs to it */
  private pendingCr = false;

  /** Parses `chunk` and returns the events it completed (possibly none). */
  push(chunk: string): SseEvent[] {
    let text = chunk;
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    const out: SseEvent[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (!m) break;
      // a CR at the very end may be the first half of a CRLF split across chunks
      if (m[0] === '\r' && m.index === this.buffer.length - 1) this.pendingCr = true;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      const ev = this.line(line);
      if (ev) out.push(ev);
    }
    return out;
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') {
      const data = this.data;
      const event = this.event || 'message';
      this.data = [];
      this.event = '';
      if (data.length === 0) return undefined;
      return { event, data: data.join('\n'), ...(this.id !== undefined ? { id: this.id } : {}) };
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    // `retry` and unknown fields are ignored: the client reconnects by its own rules
    return undefined;
  }
}
