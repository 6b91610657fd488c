package hotswap;

import hotswap.wire.StatusReport;

/**
 * What hotswap did to one managed database since the app started: how many swaps and pulls, and
 * the last of each. Written once per command, never on the request path; read by
 * {@code hotswap status} and the MXBeans. Each last-of is one immutable record, so a reader sees a
 * whole one.
 */
final class Activity {
    private long swaps;
    private long pulls;
    private StatusReport.Swap lastSwap;
    private StatusReport.Pull lastPull;

    /** A swap replaced the database with a file of {@code bytes}; requests were held {@code pauseMillis}. */
    synchronized void swapped(long bytes, double pauseMillis, String source) {
        swaps++;
        lastSwap = new StatusReport.Swap(System.currentTimeMillis(), bytes, pauseMillis, source);
    }

    /** A pull handed over a snapshot of {@code bytes} and ended now, {@code durationMillis} after it began. */
    synchronized void pulled(long bytes, long durationMillis) {
        pulls++;
        lastPull = new StatusReport.Pull(System.currentTimeMillis(), bytes, durationMillis);
    }

    synchronized long swaps() {
        return swaps;
    }

    synchronized long pulls() {
        return pulls;
    }

    /** Null when no swap happened since the app started. */
    synchronized StatusReport.Swap lastSwap() {
        return lastSwap;
    }

    /** Null when no pull happened since the app started. */
    synchronized StatusReport.Pull lastPull() {
        return lastPull;
    }
}
