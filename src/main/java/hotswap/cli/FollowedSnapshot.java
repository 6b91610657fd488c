package hotswap.cli;

import hotswap.wire.Threads;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;

/**
 * Copies the app's snapshot into this client's output while SQLite is still writing it, so that
 * when the snapshot is done, so is nearly all of the copy. A pull to stdout must write the database
 * twice, the snapshot and then the file the shell opened. One after the other, a 1 GiB pull to
 * stdout took 1.88x {@code sqlite3 .backup} ({@code make bench}, 19:27 UTC 2026-12-01); side by
 * side, 1.27x (19:41).
 *
 * <p>A piece copied early may change afterwards: SQLite rewrites the first page when the backup
 * commits (the header's change counter and page count), and nothing promises in what order it
 * writes the rest. So every copied piece's checksums are kept, and {@link #finish} reads the
 * finished snapshot again, copies each piece whose checksums differ, then the rest. Two CRCs of
 * different polynomials make 64 bits: a piece that changed and still matches both is about a 1
 * in 2^64 chance.
 *
 * <p>It only reads the snapshot; it writes only its target, between {@code base} and the end of
 * what it copied, which the caller cuts off should the copy be abandoned.
 */
final class FollowedSnapshot implements AutoCloseable {
    private static final long POLL_MILLIS = 2;
    private static final int VERIFY_THREADS = 2;
    private static final int VERIFY_CHUNK_BYTES = 1 << 20;

    private final String path;
    private final String id;
    private final FileChannel snapshot;
    private final FileChannel target;
    private final long base;
    private final Progress progress;
    private final Thread thread;
    /** The copying thread's buffer, then {@link #finish}'s. */
    private final ByteBuffer buffer = DirectIo.buffer();
    /** Checksums of the pieces copied so far, in order; each piece is {@link DirectIo#STEP_BYTES}. */
    private final List<Long> checksums = new ArrayList<>();
    /** Bytes copied from the snapshot's start, in whole pieces. */
    private volatile long copied;
    private volatile boolean stopped;
    /** Set by the copying thread, read after it ended. */
    private IOException failure;
    private int recopied;

    private FollowedSnapshot(String path, String id, FileChannel snapshot, FileChannel target, long base, Progress progress) {
        this.path = path;
        this.id = id;
        this.snapshot = snapshot;
        this.target = target;
        this.base = base;
        this.progress = progress;
        this.thread = new Thread(this::follow, "hotswap-follow");
        thread.setDaemon(true);
    }

    /**
     * Starts copying the snapshot the app announced at {@code path} (with {@code id}) into
     * {@code target} at {@code base}, which must be a multiple of 4 KiB.
     *
     * @return null, having written nothing, if the path does not name a snapshot file this client
     *         can see, or {@code target} cannot be written with direct I/O
     */
    static FollowedSnapshot start(String path, String id, Path target, long base, Progress progress) {
        Path file = OfferedSnapshot.snapshotPath(path, id);
        if (file == null || !DirectIo.aligned(base)) {
            return null;
        }
        FileChannel snapshot = OfferedSnapshot.openIfSame(file, id, StandardOpenOption.READ);
        if (snapshot == null) {
            return null;
        }
        FileChannel out = DirectIo.openForWriting(target);
        if (out == null) {
            closeQuietly(snapshot);
            return null;
        }
        FollowedSnapshot followed = new FollowedSnapshot(path, id, snapshot, out, base, progress);
        followed.thread.start();
        return followed;
    }

    private void follow() {
        try {
            while (!stopped) {
                if (snapshot.size() < copied + DirectIo.STEP_BYTES) {
                    Thread.sleep(POLL_MILLIS);
                    continue;
                }
                buffer.clear();
                DirectIo.readFully(snapshot, buffer, copied, copied + DirectIo.STEP_BYTES);
                long sum = checksum(buffer);
                DirectIo.writeFully(target, buffer, base + copied);
                checksums.add(sum);
                copied += DirectIo.STEP_BYTES; // this thread alone writes it
                progress.add(DirectIo.STEP_BYTES);
            }
        } catch (IOException e) {
            failure = e;
        } catch (InterruptedException e) {
            // Stopped.
        }
    }

    /** Stops copying and waits for a piece under way. */
    void stop() {
        stopped = true;
        Threads.joinUninterruptibly(thread);
    }

    /** Where in the target the snapshot starts. */
    long base() {
        return base;
    }

    /** Where what it copied so far ends in the target. */
    long copiedEnd() {
        return base + copied;
    }

    /**
     * After {@link #stop}: whether the app's finished snapshot is the file followed (same path, same
     * id), the whole copy so far is good to build on, and it fits the finished size.
     */
    boolean canFinish(OfferedSnapshot offer) {
        try {
            return failure == null && path.equals(offer.offeredPath()) && id.equals(offer.id()) && snapshot.size() == offer.size()
                    && copiedEnd() - base <= offer.size();
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * After {@link #canFinish}: copies again each piece that changed since it was copied, then the
     * rest of the snapshot, so the target holds the finished snapshot at {@code base}. A tail that
     * is not a multiple of 4 KiB is written through {@code plain}, the same file opened as usual.
     */
    void finish(long size, FileChannel plain) throws IOException {
        for (int i : changedPieces()) {
            long pos = (long) i * DirectIo.STEP_BYTES;
            buffer.clear();
            DirectIo.readFully(snapshot, buffer, pos, size);
            DirectIo.writeFully(target, buffer, base + pos);
            recopied++;
        }
        for (long pos = copied; pos < size; ) {
            int n = (int) Math.min(DirectIo.STEP_BYTES, size - pos);
            buffer.clear().limit(n);
            DirectIo.readFully(snapshot, buffer, pos, size);
            DirectIo.writeFully(DirectIo.aligned(n) ? target : plain, buffer, base + pos);
            pos += n;
            progress.add(n);
        }
    }

    /**
     * The copied pieces whose checksums differ now. Two threads read them, which on the two cores
     * here took 1 GiB from about 110 to 65 ms (scratch measurement, client JVM flags).
     */
    private List<Integer> changedPieces() throws IOException {
        List<Integer> changed = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger next = new AtomicInteger();
        IOException[] failures = new IOException[VERIFY_THREADS];
        Thread[] threads = new Thread[VERIFY_THREADS];
        for (int t = 0; t < VERIFY_THREADS; t++) {
            int slot = t;
            threads[t] = new Thread(() -> {
                ByteBuffer chunk = ByteBuffer.allocateDirect(VERIFY_CHUNK_BYTES);
                try {
                    for (int i = next.getAndIncrement(); i < checksums.size(); i = next.getAndIncrement()) {
                        if (checksum(i, chunk) != checksums.get(i)) {
                            changed.add(i);
                        }
                    }
                } catch (IOException e) {
                    failures[slot] = e;
                }
            }, "hotswap-verify");
            threads[t].start();
        }
        for (Thread t : threads) {
            Threads.joinUninterruptibly(t);
        }
        for (IOException e : failures) {
            if (e != null) {
                throw e;
            }
        }
        return changed;
    }

    /** The checksum of piece {@code i} of the snapshot as it is now, read through {@code chunk}. */
    private long checksum(int i, ByteBuffer chunk) throws IOException {
        CRC32C c = new CRC32C();
        CRC32 d = new CRC32();
        long end = (long) (i + 1) * DirectIo.STEP_BYTES;
        for (long pos = (long) i * DirectIo.STEP_BYTES; pos < end; pos += chunk.capacity()) {
            chunk.clear();
            DirectIo.readFully(snapshot, chunk, pos, end);
            c.update(chunk.duplicate());
            d.update(chunk);
        }
        return combine(c, d);
    }

    /** Pieces {@link #finish} found changed and copied again. */
    int recopied() {
        return recopied;
    }

    /** CRC32C and CRC32 of the buffer's remaining bytes, which it leaves in place. */
    private static long checksum(ByteBuffer buffer) {
        CRC32C c = new CRC32C();
        c.update(buffer.duplicate());
        CRC32 d = new CRC32();
        d.update(buffer.duplicate());
        return combine(c, d);
    }

    private static long combine(CRC32C c, CRC32 d) {
        return c.getValue() << 32 | d.getValue();
    }

    @Override
    public void close() {
        stop();
        closeQuietly(snapshot);
        closeQuietly(target);
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Nothing is lost: the snapshot was only read, and the target's bytes were written directly.
        }
    }
}
