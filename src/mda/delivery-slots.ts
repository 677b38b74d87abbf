/**
 * `mda limit max-session` and `max-session-per-user`: how many local deliveries run at once,
 * in all and for one user (the owner of the mailbox, or of the .forward). A delivery over
 * either limit waits; waiting deliveries start in the order they came, each as soon as both
 * limits let it (a user at its limit does not hold back the others).
 * Privileges: none. Peers: none. No I/O.
 */

interface Waiting {
  readonly user: string;
  readonly start: () => void;
}

export class DeliverySlots {
  private running = 0;
  private readonly perUser = new Map<string, number>();
  private readonly waiting: Waiting[] = [];

  /** `limits` is asked each time (a reload may change them) */
  constructor(private readonly limits: () => { readonly maxSessions: number; readonly maxPerUser: number }) {}

  /** deliveries under way */
  get active(): number {
    return this.running;
  }

  /** deliveries waiting for a slot */
  get pending(): number {
    return this.waiting.length;
  }

  /** users with a delivery under way */
  get users(): number {
    return this.perUser.size;
  }

  /** Runs `task` for `user` once a slot is free; resolves or rejects as it does. */
  run<T>(user: string, task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.take(user);
        task().then(resolve, reject).finally(() => this.release(user));
      };
      // whatever waits is held by a limit (release() starts all that fit), so a delivery that
      // fits now jumps no queue: its user is not one of those held
      if (this.fits(user, this.limits())) start();
      else this.waiting.push({ user, start });
    });
  }

  private fits(user: string, { maxSessions, maxPerUser }: { readonly maxSessions: number; readonly maxPerUser: number }): boolean {
    return this.running < maxSessions && (this.perUser.get(user) ?? 0) < maxPerUser;
  }

  private take(user: string): void {
    this.running++;
    this.perUser.set(user, (this.perUser.get(user) ?? 0) + 1);
  }

  private release(user: string): void {
    this.running--;
    const left = (this.perUser.get(user) ?? 1) - 1;
    if (left > 0) this.perUser.set(user, left);
    else this.perUser.delete(user);
    const limits = this.limits();
    for (let i = 0; i < this.waiting.length && this.running < limits.maxSessions; ) {
      const w = this.waiting[i]!;
      if (!this.fits(w.user, limits)) {
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      w.start();
    }
  }
}
