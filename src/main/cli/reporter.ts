/** Progress and messages on stderr, so that stdout stays clean for data. */
export class Reporter {
  private lastDraw = 0
  private drawing = false

  constructor(private readonly quiet: boolean) {}

  line(text: string): void {
    if (this.quiet) return
    this.done()
    process.stderr.write(`${text}\n`)
  }

  progress(label: string, done: number, total: number): void {
    if (this.quiet || !process.stderr.isTTY) return
    const now = Date.now()
    if (now - this.lastDraw < 100 && done < total) return
    this.lastDraw = now
    const pct = total > 0 ? Math.floor((100 * done) / total) : 0
    process.stderr.write(`\r${label}: ${done}/${total} (${pct}%)\x1b[K`)
    this.drawing = true
  }

  done(): void {
    if (this.drawing) process.stderr.write('\n')
    this.drawing = false
  }
}
