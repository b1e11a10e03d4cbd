import { NoNodeError } from '../../../core/index.js';
import { defineCommand } from '../command.js';
import { dataForJson, preview } from '../format.js';
import { drawTree, type DrawNode } from '../tree-drawing.js';
import { intArg, pathArg } from './args.js';
import { readTree, type TreeNode } from './paths.js';

/** `corral tree [PATH]`: the subtree drawn like tree(1), ephemerals marked. */
export const tree = defineCommand({
  command: 'tree [path]',
  describe: 'Draw the znode tree under a path (├── └──)',
  builder: (y) =>
    y
      .positional('path', { type: 'string', default: '/', describe: 'Root of the drawing' })
      .option('depth', { alias: 'd', type: 'number', describe: 'Levels to descend (default: all)' })
      .option('data', { type: 'boolean', default: false, describe: "Show a preview of each znode's data" })
      .example('corral tree /status --depth 1', ''),
  async run(ctx, a) {
    const path = pathArg(a.path);
    const depth = intArg(a.depth, 'depth', 0) ?? Infinity;
    const root = await ctx.withClient('tree', (zk) => readTree(zk, path, depth));
    if (!root) throw new NoNodeError(path);
    ctx.print(toJson(root, a.data), () => drawTree(toDrawing(root, a.data, true)));
  },
});

function toDrawing(n: TreeNode, data: boolean, isRoot = false): DrawNode {
  let label = isRoot ? n.path : n.name;
  if (n.stat.ephemeralOwner !== null) label += ' (ephemeral)';
  if (data && n.data.length > 0) label += `  = ${preview(n.data)}`;
  if (n.hidden > 0) label += `  [+${n.hidden}]`;
  return { label, children: n.children.map((c) => toDrawing(c, data)) };
}

interface TreeJson {
  path: string;
  ephemeral: boolean;
  dataLength: number;
  numChildren: number;
  data?: string;
  encoding?: string;
  children: TreeJson[];
}

function toJson(n: TreeNode, data: boolean): TreeJson {
  return {
    path: n.path,
    ephemeral: n.stat.ephemeralOwner !== null,
    dataLength: n.stat.dataLength,
    numChildren: n.stat.numChildren,
    ...(data ? dataForJson(n.data) : {}),
    children: n.children.map((c) => toJson(c, data)),
  };
}
