/** A node of a tree to draw: its label and its children, in order. */
export interface DrawNode {
  label: string;
  children: DrawNode[];
}

/**
 * Draws a tree like `tree(1)`: the root's label, then each child on its own line behind
 * `├── ` or `└── `, with `│   ` carrying the lines of the levels above.
 *
 * @example
 * drawTree({ label: '/', children: [{ label: 'app', children: [{ label: 'cfg', children: [] }] }] })
 * // "/\n└── app\n    └── cfg"
 */
export function drawTree(root: DrawNode): string {
  const lines = [root.label];
  const walk = (node: DrawNode, prefix: string) => {
    node.children.forEach((child, i) => {
      const last = i === node.children.length - 1;
      lines.push(prefix + (last ? '└── ' : '├── ') + child.label);
      walk(child, prefix + (last ? '    ' : '│   '));
    });
  };
  walk(root, '');
  return lines.join('\n');
}
