package hotswap;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Frees the disk space of replaced database files in the background, a slice at a time.
 *
 * <p>Dropping the last link to a large file frees all of its blocks inside that one system call:
 * measured here, unlinking a 1 GiB file took 228 ms of kernel time (the filesystem is mounted with
 * online discard), most of a core on a 2-core machine, just when the requests held by the swap
 * rush back in. So the file's name goes at once, while a descriptor of ours keeps its blocks; this
 * waits {@link #SETTLE_MILLIS} for the rush to pass, then shrinks the file by {@link #SLICE} bytes
 * per step (about 2 ms of kernel time each) with a short pause between steps, so requests keep
 * their share of the cores throughout. A process that dies meanwhile leaves nothing behind: the
 * kernel frees a file without names when its last descriptor closes.
 *
 * <p>A file that has another name, or that some process still has open, is only unlinked:
 * shrinking it would pull the data from under that reader, and its blocks stay in use until it
 * closes anyway.
 */
final class Reclaimer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Reclaimer.class.getName());
    static final long SLICE = 8L << 20;
    /** Before the first slice: the requests the swap held are served first. */
    static final long SETTLE_MILLIS = 20;
    /** Between slices. */
    static final long PAUSE_MILLIS = 2;

    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "hotswap-reclaimer");
        t.setDaemon(true);
        return t;
    });
    /** Callers waiting for the work to finish; while there are any, no pauses. */
    private final AtomicInteger hurrying = new AtomicInteger();
    private volatile boolean closing;
    private Future<?> last;

    /**
     * Removes {@code file} (one of hotswap's temp names, never a live database) at once, and frees
     * its blocks in the background.
     *
     * @return done when the blocks are free, or handed to the process that still has the file open
     */
    synchronized Future<?> reclaim(Path file) {
        Held held = worker.isShutdown() ? null : holdAndUnlink(file);
        if (held == null) {
            delete(file);
            return CompletableFuture.completedFuture(null);
        }
        last = worker.submit(() -> free(held));
        return last;
    }

    /**
     * Opens {@code file} and removes its name, so that only the descriptor keeps its blocks; null
     * where the file must only lose its name: it has another name, or a descriptor in this process
     * (a SQLite connection: opening and closing a descriptor of ours would drop that connection's
     * POSIX locks, sqlite.org/howtocorrupt.html §2.2).
     */
    private static Held holdAndUnlink(Path file) {
        try {
            Object inode = OpenHandles.inodeOf(file);
            if (linkCount(file) != 1 || OpenHandles.inThisProcess(inode) != 0) {
                return null;
            }
            FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE);
            try {
                Files.delete(file);
                return new Held(ch, inode);
            } catch (IOException e) {
                ch.close();
                throw e;
            }
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Finishes freeing every file handed over so far, at full speed, and returns when the space is
     * free: a push calls this before it checks for room for the next file.
     */
    void finish() throws InterruptedException {
        Future<?> pending;
        synchronized (this) {
            pending = last;
        }
        if (pending == null) {
            return;
        }
        hurrying.incrementAndGet();
        try {
            pending.get();
        } catch (ExecutionException e) {
            LOG.log(Level.WARNING, "freeing a replaced database failed", e.getCause());
        } finally {
            hurrying.decrementAndGet();
        }
    }

    /** Frees whatever is still pending, at full speed, then stops the worker. */
    @Override
    public void close() {
        synchronized (this) {
            closing = true;
            worker.shutdown();
        }
        try {
            if (!worker.awaitTermination(1, TimeUnit.MINUTES)) {
                LOG.warning("still freeing replaced databases after 1 minute; leaving the rest to the next start");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A replaced file without a name, kept by a descriptor of ours until its blocks are free. */
    private record Held(FileChannel channel, Object inode) {
    }

    /** Shrinks the held file to nothing, a slice at a time, and closes it. */
    private void free(Held held) {
        long started = System.nanoTime();
        try (FileChannel ch = held.channel()) {
            pause(SETTLE_MILLIS); // looking for processes that hold the file costs CPU too
            if (OpenHandles.heldByAnyProcess(held.inode(), 1)) {
                LOG.fine("a process still has the replaced database open: its space is freed when it closes it");
                return;
            }
            long size = ch.size();
            for (long left = size; left > 0; ) {
                left = Math.max(0, left - SLICE);
                ch.truncate(left);
                pause(PAUSE_MILLIS);
            }
            LOG.fine(() -> String.format("freed %d bytes of the replaced database in %d ms", size,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)));
        } catch (IOException e) {
            LOG.warning(() -> "could not shrink a replaced database (" + e.getMessage() + "); its space is freed as it is closed");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The file's number of names; 0 where the filesystem cannot tell. */
    private static int linkCount(Path file) throws IOException {
        try {
            return (Integer) Files.getAttribute(file, "unix:nlink", LinkOption.NOFOLLOW_LINKS);
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            return 0;
        }
    }

    private void pause(long millis) throws InterruptedException {
        if (!closing && hurrying.get() == 0) {
            Thread.sleep(millis);
        }
    }

    private static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.warning(() -> "could not remove " + file + ": " + e.getMessage() + "; it is removed on the next start");
        }
    }
}
