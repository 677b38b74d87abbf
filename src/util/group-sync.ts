/**
 * Group commit for a directory's fsync: callers that need the directory's entries on disk at
 * the same time share one fsync. A caller that arrives while one runs (it may have started
 * before the caller's entry was made) waits for the next, which then covers every caller that
 * arrived meanwhile: N deliveries into one maildir at once cost two fsyncs of new/, not N.
 * No state beyond the run in progress and the next one. Privileges: none.
 */
export class GroupSync {
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;

  /** `run` does one fsync of the directory */
  constructor(private readonly run: () => Promise<void>) {}

  /** resolves once an fsync that started after this call has completed */
  sync(): Promise<void> {
    if (!this.running) return this.start();
    if (!this.next) {
      const after = () => {
        this.next = undefined;
        return this.start();
      };
      this.next = this.running.then(after, after);
    }
    return this.next;
  }

  private start(): Promise<void> {
    const p: Promise<void> = this.run().finally(() => {
      if (this.running === p) this.running = undefined;
    });
    this.running = p;
    return p;
  }
}
