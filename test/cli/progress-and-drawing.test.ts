import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Io } from '../../framework/cli/io.js';
import { ProgressBar } from '../../framework/cli/progress-bar.js';
import { drawTree } from '../../framework/cli/tree-drawing.js';
import { parseTaskArg, parseTaskLines } from '../../framework/cli/task-input.js';

const io = (tty: boolean): Io & { text: () => string } => {
  let err = '';
  return { out: () => undefined, err: (t) => (err += t), errIsTTY: tty, env: {}, stdin: Readable.from([]), cwd: '/', text: () => err };
};

describe('progress bar', () => {
  it('off a terminal prints one plain line per 10% step, never carriage returns', () => {
    const o = io(false);
    const bar = new ProgressBar(o, 100, 'tasks');
    for (let i = 0; i <= 100; i++) bar.update(i, 'x retried');
    bar.done();
    const lines = o.text().trimEnd().split('\n');
    expect(lines).toHaveLength(11);
    expect(o.text()).not.toContain('\r');
    expect(lines[5]).toMatch(/^\[█{12}░{12}\]  50% 50\/100 tasks · x retried · \d+ ms$/);
    expect(lines[10]).toMatch(/^\[█{24}\] 100% 100\/100 tasks/);
  });

  it('on a terminal redraws in place and keeps logged lines above the bar', () => {
    const o = io(true);
    const bar = new ProgressBar(o, 10, 'tasks');
    bar.update(5);
    bar.log('master m1 killed');
    bar.update(10);
    bar.done();
    expect(o.text()).toContain('\r\x1b[Kmaster m1 killed\n\r\x1b[K[');
    expect(o.text().endsWith('\n')).toBe(true);
  });
});

describe('tree drawing', () => {
  it('draws nested levels with the right connectors', () => {
    const leaf = (label: string) => ({ label, children: [] });
    expect(drawTree({ label: '/', children: [{ label: 'a', children: [leaf('x'), leaf('y')] }, leaf('b')] })).toBe(
      '/\n├── a\n│   ├── x\n│   └── y\n└── b',
    );
  });
});

describe('task input (JSON lines)', () => {
  it('reads one payload per line, skipping blank lines', () => {
    expect(parseTaskLines('{"n":1}\n\n[2]\n"s"\n', 'f', false)).toEqual([{ payload: { n: 1 } }, { payload: [2] }, { payload: 's' }]);
    expect(parseTaskLines('{"payload":1,"options":{"priority":5}}', 'f', true)).toEqual([{ payload: 1, options: { priority: 5 } }]);
  });

  it('names the line of bad JSON and rejects malformed envelopes', () => {
    expect(() => parseTaskLines('{"n":1}\n{"n":\n', 'tasks.jsonl', false)).toThrow(/^bad task JSON in tasks.jsonl line 2: /);
    expect(() => parseTaskArg('{nope}', false)).toThrow(/bad task JSON in the task argument/);
    expect(() => parseTaskLines('{"n":1}', 'f', true)).toThrow(/\{"payload": …, "options": \{…\}\}/);
    expect(() => parseTaskLines('{"payload":1,"opts":{}}', 'f', true)).toThrow(/unknown field "opts"/);
  });
});
