import { SseParser, type SseEvent } from './sse';

/** Feeds `text` to a fresh parser in pieces of `size` characters and collects the events. */
function parseInPieces(text: string, size: number): SseEvent[] {
  const parser = new SseParser();
  const out: SseEvent[] = [];
  for (let i = 0; i < text.length; i += size) out.push(...parser.push(text.slice(i, i + size)));
  return out;
}

describe('SseParser', () => {
  const stream =
    ': stream open\n\n' +
    'event: status\ndata: {"status":"pending"}\n\n' +
    ': keep-alive\n\n' +
    'event: status\r\ndata: {"status":\r\ndata: "refining"}\r\n\r\n' +
    'data:no space\rid: 7\r\r' +
    'event: status\n\n';

  it('gives the same events however the bytes are split, with LF, CRLF and CR line ends', () => {
    const expected: SseEvent[] = [
      { event: 'status', data: '{"status":"pending"}' },
      { event: 'status', data: '{"status":\n"refining"}' },
      { event: 'message', data: 'no space', id: '7' },
    ];
    for (const size of [1, 2, 3, 7, stream.length]) expect(parseInPieces(stream, size)).toEqual(expected);
  });

  it('skips comments and events without data, and holds back an unfinished event', () => {
    const parser = new SseParser();
    expect(parser.push(': only a comment\n\nevent: status\n\n')).toEqual([]);
    expect(parser.push('event: status\ndata: x')).toEqual([]);
    expect(parser.push('\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ event: 'status', data: 'x' }]);
  });
});
