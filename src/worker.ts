/**
 * Entry point of a worker process: the parent forks this file with the worker's name.
 * Loads only that worker's code, so each process carries what it needs and no more.
 */
import { isWorker } from './bus/topology';

const name = process.argv[2] ?? '';
if ((!isWorker(name) && name !== 'deliver') || !process.send) {
  process.stderr.write('smtpd: worker.js is started by smtpd only\n');
  process.exit(2);
}
/* eslint-disable @typescript-eslint/no-require-imports */
const mains: Record<string, () => { main(): void }> = {
  control: () => require('./ctl/control'),
  lka: () => require('./lka/main'),
  queue: () => require('./queue/main'),
  scheduler: () => require('./scheduler/main'),
  smtp: () => require('./smtp/main'),
  mta: () => require('./mta/main'),
  mda: () => require('./mda/main'),
  // not a worker: the delivery helper of one user (parent/helpers.ts)
  deliver: () => require('./deliver/main'),
};
mains[name]!().main();
