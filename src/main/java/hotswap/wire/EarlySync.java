package hotswap.wire;

import java.io.IOException;
import java.nio.channels.FileChannel;

/**
 * Flushes a file to disk while it is still being written, on a thread of its own, so that the
 * fsync which makes the finished file durable finds little left to write. Without it the kernel
 * starts writing a fresh file back only when that fsync asks (dirty pages stay cached for up to
 * 30 s), so the whole write-back would fall inside the command's final step.
 *
 * <p>It watches the file's size, so it serves files that other code writes too (SQLite writing a
 * backup). The writer still calls {@code force(true)} at the end; {@link #close()} reports an
 * error an early flush met, which the kernel may report to only one fsync of the same descriptor.
 *
 * <p>Internal to hotswap: the client and the server share it; it is not part of the public API.
 */
public final class EarlySync implements AutoCloseable {
    /** Unflushed bytes that start a flush. */
    public static final long STEP = 32L << 20;
    private static final long POLL_MILLIS = 5;

    private final FileChannel file;
    private final Thread thread;
    private volatile boolean closed;
    private volatile int flushes;
    private IOException failure;

    private EarlySync(FileChannel file) {
        this.file = file;
        this.thread = new Thread(this::run, "hotswap-early-sync");
        thread.setDaemon(true);
    }

    /** Starts flushing {@code file} as it grows, until closed. */
    public static EarlySync start(FileChannel file) {
        EarlySync sync = new EarlySync(file);
        sync.thread.start();
        return sync;
    }

    private void run() {
        long flushed = 0;
        try {
            while (!closed) {
                long size = file.size();
                if (size - flushed >= STEP) {
                    file.force(false);
                    flushed = size;
                    flushes++; // this thread alone writes it
                } else {
                    Thread.sleep(POLL_MILLIS);
                }
            }
        } catch (IOException e) {
            synchronized (this) {
                failure = e;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Early flushes done so far. */
    public int flushes() {
        return flushes;
    }

    /**
     * Stops flushing and waits for a flush under way.
     *
     * @throws IOException an early flush failed: the file may not be on disk, whatever a later fsync says
     */
    @Override
    public void close() throws IOException {
        closed = true;
        Threads.joinUninterruptibly(thread);
        synchronized (this) {
            if (failure != null) {
                throw failure;
            }
        }
    }
}
