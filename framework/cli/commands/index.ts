import type { Command } from '../command.js';
import { create } from './create.js';
import { elect } from './elect.js';
import { get } from './get.js';
import { ls } from './ls.js';
import { rm } from './rm.js';
import { set } from './set.js';
import { stat } from './stat.js';
import { tree } from './tree.js';
import { watch } from './watch.js';

/** Every `corral` subcommand, in the order `--help` lists them. */
export const commands: Command[] = [ls, tree, get, stat, set, create, rm, watch, elect];
