import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';

/** True when the module at `url` is the script node was started with (a bench run alone). */
export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && url === pathToFileURL(process.argv[1]).href;
}

/** Runs a bench's entry point, printing failures and exiting with a status. */
export function runMain(fn: () => Promise<void>): void {
  fn().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

/** One line about the machine: figures on a shared 2-core box move with its load. */
export function machineLine(): string {
  const [one] = loadavg();
  return `node ${process.version}, ${process.platform}/${process.arch}, load average ${one.toFixed(2)}`;
}
