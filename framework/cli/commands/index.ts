import type { Command } from '../command.js';
import { cancel } from './cancel.js';
import { create } from './create.js';
import { demo } from './demo.js';
import { elect } from './elect.js';
import { get } from './get.js';
import { lock } from './lock.js';
import { ls } from './ls.js';
import { master } from './master.js';
import { rm } from './rm.js';
import { set } from './set.js';
import { stat } from './stat.js';
import { status } from './status.js';
import { submit } from './submit.js';
import { tasks } from './tasks.js';
import { tree } from './tree.js';
import { watch } from './watch.js';
import { worker } from './worker.js';
import { workers } from './workers.js';

/** Every `corral` subcommand, in the order `--help` lists them. */
export const commands: Command[] = [
  demo, master, worker, submit, tasks, workers, status, cancel,
  ls, tree, get, stat, set, create, rm, watch,
  lock, elect,
];
