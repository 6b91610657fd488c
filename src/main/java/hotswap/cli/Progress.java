package hotswap.cli;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A live progress line on a terminal's stderr: the phase, bytes moved, the rate, and percent and
 * time left when the size is known. Redrawn in place a few times a second. Text the command prints
 * meanwhile goes through {@link #println} so it never lands in the middle of the line.
 *
 * <p>{@link #none} does nothing, for when stderr is not a terminal or {@code --quiet} is given: the
 * output contract is then unchanged.
 */
class Progress implements AutoCloseable {
    private static final long REDRAW_NANOS = 200_000_000L;

    private final PrintStream err;
    private final AtomicLong bytes = new AtomicLong();
    private final long startNanos = System.nanoTime();
    private volatile long total = -1;
    private volatile String phase = "connecting";
    private volatile long phaseStartNanos = startNanos;
    private volatile long transferStartNanos = startNanos;
    private volatile boolean transferring;
    private long lastDrawNanos;
    private boolean drawn;
    private boolean closed;
    private Thread ticker;

    private Progress(PrintStream err) {
        this.err = err;
    }

    /** Starts a progress line on {@code err}, which must be a terminal. */
    static Progress start(PrintStream err) {
        Progress p = new Progress(err);
        p.ticker = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                p.redraw(false);
                try {
                    Thread.sleep(REDRAW_NANOS / 1_000_000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "hotswap-progress");
        p.ticker.setDaemon(true);
        p.ticker.start();
        return p;
    }

    /** Linux tells which file descriptor 2 is; a terminal is a pts or tty device. */
    static boolean stderrIsTerminal() {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (Exception e) {
            return false;
        }
    }

    /** A progress line that shows nothing. */
    static Progress none(PrintStream err) {
        return new Progress(err) {
            @Override
            synchronized void redraw(boolean force) {
            }

            @Override
            synchronized void println(String text) {
                err.print(text.endsWith("\n") ? text : text + "\n");
                err.flush();
            }

            @Override
            public synchronized void close() {
            }
        };
    }

    void phase(String name) {
        phase = name;
        phaseStartNanos = System.nanoTime();
        transferring = name.startsWith("sending") || name.startsWith("receiving");
        if (transferring) {
            transferStartNanos = phaseStartNanos;
        }
        redraw(true);
    }

    /** The phase of a delta transfer: how many pages travel, and the share of the file that does not. */
    static String pagesPhase(String verb, int changed, int of) {
        return String.format(Locale.ROOT, "%s %,d of %,d pages (%d%% saved)", verb, changed, of,
                of == 0 ? 0 : 100L * (of - changed) / of);
    }

    void total(long size) {
        total = size;
    }

    void add(long n) {
        bytes.addAndGet(n);
    }

    /** Prints a line of the command's own output above the progress line. */
    synchronized void println(String text) {
        clear();
        err.print(text.endsWith("\n") ? text : text + "\n");
        err.flush();
        drawn = false;
        redraw(true);
    }

    synchronized void redraw(boolean force) {
        long now = System.nanoTime();
        if (closed || !force && now - lastDrawNanos < REDRAW_NANOS) {
            return;
        }
        lastDrawNanos = now;
        err.print("\r" + line(now) + "\033[K");
        err.flush();
        drawn = true;
    }

    private String line(long now) {
        long done = bytes.get();
        StringBuilder b = new StringBuilder(phase).append(": ").append(size(done));
        long t = total;
        if (t > 0) {
            b.append(" of ").append(size(t)).append(String.format(Locale.ROOT, " (%d%%)", Math.min(100, done * 100 / t)));
        }
        if (!transferring) {
            return b.append(String.format(Locale.ROOT, ", %.1fs", (now - phaseStartNanos) / 1e9)).toString();
        }
        double rate = done / Math.max((now - transferStartNanos) / 1e9, 1e-3);
        if (done > 0) {
            b.append(", ").append(size((long) rate)).append("/s");
        }
        if (t > 0 && rate > 0 && done < t) {
            b.append(String.format(Locale.ROOT, ", %ds left", Math.round((t - done) / rate)));
        }
        return b.toString();
    }

    private void clear() {
        if (drawn) {
            err.print("\r\033[K");
        }
    }

    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    /** Stops redrawing and removes the line. */
    @Override
    public synchronized void close() {
        if (ticker != null) {
            ticker.interrupt();
        }
        closed = true;
        clear();
        err.flush();
        drawn = false;
    }
}
